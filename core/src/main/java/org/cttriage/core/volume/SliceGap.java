package org.cttriage.core.volume;

/**
 * Missing slices between two received ones, filled by linear interpolation.
 *
 * @param afterSlice     index (in the volume) of the last slice before the gap
 * @param missingSlices  how many slice positions were missing
 * @param positionMm     position along the slice direction where the gap starts
 */
public record SliceGap(int afterSlice, int missingSlices, double positionMm) {
}
