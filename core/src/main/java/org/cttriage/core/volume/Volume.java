package org.cttriage.core.volume;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

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
 * @param slices             per slice index, the image it was read from, null for an interpolated
 *                           slice; empty when not known (a volume not read from DICOM)
 */
public record Volume(String studyInstanceUid, String seriesInstanceUid, String phase, VolumeGeometry geometry,
                     short[] hu, List<SliceGap> gaps, List<String> sourceInstances, List<SliceSource> slices) {

    public Volume {
        if (hu.length != geometry.voxelCount()) {
            throw new IllegalArgumentException("voxel array length " + hu.length + " does not match geometry "
                    + geometry.voxelCount());
        }
        gaps = List.copyOf(gaps);
        sourceInstances = List.copyOf(sourceInstances);
        if (!slices.isEmpty() && slices.size() != geometry.size()[2]) {
            throw new IllegalArgumentException(slices.size() + " slice sources for " + geometry.size()[2] + " slices");
        }
        slices = Collections.unmodifiableList(new ArrayList<>(slices)); // nulls allowed: interpolated slices
    }

    /** A volume whose slices' sources are not known (not read from DICOM: a phantom, a test). */
    public Volume(String studyInstanceUid, String seriesInstanceUid, String phase, VolumeGeometry geometry,
                  short[] hu, List<SliceGap> gaps, List<String> sourceInstances) {
        this(studyInstanceUid, seriesInstanceUid, phase, geometry, hu, gaps, sourceInstances, List.of());
    }

    /**
     * The image nearest to slice index {@code k} (clamped to the volume) that was received, not
     * interpolated; empty when the slices' sources are not known.
     */
    public Optional<SliceSource> nearestReceivedSlice(int k) {
        if (slices.isEmpty()) {
            return Optional.empty();
        }
        int n = slices.size();
        int c = Math.max(0, Math.min(n - 1, k));
        for (int d = 0; d < n; d++) {
            if (c - d >= 0 && slices.get(c - d) != null) {
                return Optional.of(slices.get(c - d));
            }
            if (c + d < n && slices.get(c + d) != null) {
                return Optional.of(slices.get(c + d));
            }
        }
        return Optional.empty();
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
