package org.cttriage.core.dicom;

import java.util.List;

/**
 * Everything found in a set of files: one {@link SliceHeader} per image frame, and the
 * files that could not be used, each with its reason. Nothing is silently dropped.
 *
 * @param slices   image frames, in no particular order
 * @param rejected files that are not usable images
 */
public record ScanResult(List<SliceHeader> slices, List<RejectedFile> rejected) {
    public ScanResult {
        slices = List.copyOf(slices);
        rejected = List.copyOf(rejected);
    }
}
