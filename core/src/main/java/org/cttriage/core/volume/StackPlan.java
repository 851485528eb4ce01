package org.cttriage.core.volume;

import java.util.List;
import org.cttriage.core.dicom.SliceHeader;

/**
 * The result of checking a stack's geometry from headers alone: which received slice
 * goes to which volume slice index, the geometry, and the gaps to fill.
 *
 * @param slices   received slices in volume order
 * @param indices  volume slice index of each received slice (strictly increasing)
 * @param geometry the volume geometry
 * @param gaps     missing-slice gaps that will be interpolated
 */
public record StackPlan(List<SliceHeader> slices, int[] indices, VolumeGeometry geometry, List<SliceGap> gaps) {
    public StackPlan {
        slices = List.copyOf(slices);
        indices = indices.clone();
        gaps = List.copyOf(gaps);
    }
}
