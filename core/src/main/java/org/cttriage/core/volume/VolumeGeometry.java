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

    /** Continuous voxel index (i, j, k) of a patient position: the inverse of {@link #positionOf}. */
    public double[] indexOf(double[] lps) {
        double[][] inv = inverseAffine();
        double[] d = {lps[0] - origin[0], lps[1] - origin[1], lps[2] - origin[2]};
        double[] out = new double[3];
        for (int r = 0; r < 3; r++) {
            out[r] = inv[r][0] * d[0] + inv[r][1] * d[1] + inv[r][2] * d[2];
        }
        return out;
    }

    /**
     * The inverse of the voxel-to-patient matrix (columns: row, column and slice direction times
     * their spacing): patient offset from the origin → voxel index offset.
     *
     * @throws IllegalArgumentException when the directions do not span 3D
     */
    public double[][] inverseAffine() {
        double[][] m = new double[3][3];
        for (int r = 0; r < 3; r++) {
            m[r][0] = rowDirection[r] * spacing[0];
            m[r][1] = columnDirection[r] * spacing[1];
            m[r][2] = sliceDirection[r] * spacing[2];
        }
        double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
        if (Math.abs(det) < 1e-12) {
            throw new IllegalArgumentException("volume geometry is singular (directions do not span 3D)");
        }
        double[][] r = new double[3][3];
        r[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det;
        r[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
        r[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
        r[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det;
        r[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
        r[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
        r[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det;
        r[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
        r[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
        return r;
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
