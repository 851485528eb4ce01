package org.cttriage.core.volume;

import java.util.Arrays;

/**
 * Where a volume lies in the patient (LPS, millimetres). Voxel (i, j, k) — column, row,
 * slice — is at {@code origin + i·dx·rowDirection + j·dy·columnDirection + k·dz·sliceDirection}.
 * {@code sliceDirection} is the slice normal, except for a gantry-tilted stack accepted
 * as sheared, where it is the direction in which the slices are stacked.
 *
 * @param size             columns, rows, slices
 * @param spacing          dx (column spacing), dy (row spacing), dz (slice step), mm
 * @param origin           centre of voxel (0, 0, 0)
 * @param rowDirection     direction of increasing column index (DICOM row cosines)
 * @param columnDirection  direction of increasing row index (DICOM column cosines)
 * @param sliceDirection   direction of increasing slice index
 * @param gantryTiltDegrees angle between the slice normal and {@code sliceDirection}
 */
public record VolumeGeometry(int[] size, double[] spacing, double[] origin, double[] rowDirection,
                             double[] columnDirection, double[] sliceDirection, double gantryTiltDegrees) {

    public VolumeGeometry {
        size = size.clone();
        spacing = spacing.clone();
        origin = origin.clone();
        rowDirection = rowDirection.clone();
        columnDirection = columnDirection.clone();
        sliceDirection = sliceDirection.clone();
    }

    /** Number of voxels. */
    public long voxelCount() {
        return (long) size[0] * size[1] * size[2];
    }

    /** Patient position of the centre of voxel (i, j, k). */
    public double[] positionOf(double i, double j, double k) {
        double[] p = new double[3];
        for (int a = 0; a < 3; a++) {
            p[a] = origin[a] + i * spacing[0] * rowDirection[a] + j * spacing[1] * columnDirection[a]
                    + k * spacing[2] * sliceDirection[a];
        }
        return p;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VolumeGeometry g && Arrays.equals(size, g.size) && Arrays.equals(spacing, g.spacing)
                && Arrays.equals(origin, g.origin) && Arrays.equals(rowDirection, g.rowDirection)
                && Arrays.equals(columnDirection, g.columnDirection) && Arrays.equals(sliceDirection, g.sliceDirection)
                && gantryTiltDegrees == g.gantryTiltDegrees;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(size) * 31 + Arrays.hashCode(origin);
    }

    @Override
    public String toString() {
        return "VolumeGeometry[size=" + Arrays.toString(size) + ", spacing=" + Arrays.toString(spacing)
                + ", origin=" + Arrays.toString(origin) + ", row=" + Arrays.toString(rowDirection)
                + ", column=" + Arrays.toString(columnDirection) + ", slice=" + Arrays.toString(sliceDirection)
                + ", tilt=" + gantryTiltDegrees + "]";
    }
}
