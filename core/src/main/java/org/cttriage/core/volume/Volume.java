package org.cttriage.core.volume;

import java.util.List;

/**
 * A CT volume in Hounsfield units. Voxels are stored x (column) fastest, then y (row), then
 * z (slice): index = (k·rows + j)·columns + i. Slices are ordered along
 * {@link VolumeGeometry#sliceDirection()}.
 *
 * @param studyInstanceUid   study the series belongs to
 * @param seriesInstanceUid  series the volume was built from
 * @param phase              phase label when the series was split, else ""
 * @param geometry           where the voxels lie in the patient
 * @param hu                 the voxels, HU
 * @param gaps               slices that were missing and interpolated
 * @param sourceInstances    SOP Instance UIDs used, in volume order (one per instance)
 */
public record Volume(String studyInstanceUid, String seriesInstanceUid, String phase, VolumeGeometry geometry,
                     short[] hu, List<SliceGap> gaps, List<String> sourceInstances) {

    public Volume {
        if (hu.length != geometry.voxelCount()) {
            throw new IllegalArgumentException("voxel array length " + hu.length + " does not match geometry "
                    + geometry.voxelCount());
        }
        gaps = List.copyOf(gaps);
        sourceInstances = List.copyOf(sourceInstances);
    }

    /** HU at column i, row j, slice k. */
    public short at(int i, int j, int k) {
        int[] s = geometry.size();
        return hu[(k * s[1] + j) * s[0] + i];
    }

    /** Bytes of pixel data held (2 per voxel). */
    public long pixelBytes() {
        return 2L * hu.length;
    }
}
