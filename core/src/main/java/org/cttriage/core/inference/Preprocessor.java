package org.cttriage.core.inference;

import org.cttriage.core.volume.Volume;
import org.cttriage.core.volume.VolumeGeometry;

/**
 * The one implementation of model-input preprocessing, used both to make training arrays
 * and at inference, so that what the model was trained on is exactly what it sees.
 */
public final class Preprocessor {
    private final PreprocessingSpec spec;

    public Preprocessor(PreprocessingSpec spec) {
        this.spec = spec;
    }

    public PreprocessingSpec spec() {
        return spec;
    }

    /** Model input, [channel, z, y, x] flattened. */
    public float[] preprocess(Volume volume) {
        float[] hu = resampleHu(volume.hu(), volume.geometry());
        int n = spec.voxels();
        float[] out = new float[n * spec.channels().size()];
        for (int c = 0; c < spec.channels().size(); c++) {
            PreprocessingSpec.Window w = spec.channels().get(c);
            double scale = 2.0 / (w.upperHu() - w.lowerHu());
            for (int v = 0; v < n; v++) {
                double x = Math.max(w.lowerHu(), Math.min(w.upperHu(), hu[v]));
                out[c * n + v] = (float) ((x - w.lowerHu()) * scale - 1.0);
            }
        }
        return out;
    }

    /** HU on the grid by trilinear interpolation; outside the volume {@code outsideHu}. */
    public float[] resampleHu(short[] hu, VolumeGeometry g) {
        int[] vs = g.size();
        float[] out = new float[spec.voxels()];
        float outside = (float) spec.outsideHu();
        forEachGridPoint(g, (o, x, y, z) -> out[o] = trilinear(hu, vs, x, y, z, outside));
        return out;
    }

    /** Labels on the grid by nearest neighbour; outside the volume 0. */
    public byte[] resampleLabels(byte[] labels, VolumeGeometry g) {
        int[] vs = g.size();
        byte[] out = new byte[spec.voxels()];
        forEachGridPoint(g, (o, x, y, z) -> {
            long i = Math.round(x);
            long j = Math.round(y);
            long k = Math.round(z);
            if (i >= 0 && j >= 0 && k >= 0 && i < vs[0] && j < vs[1] && k < vs[2]) {
                out[o] = labels[(int) ((k * vs[1] + j) * vs[0] + i)];
            }
        });
        return out;
    }

    /** Receives each grid point: its output index and its continuous index in the volume. */
    @FunctionalInterface
    private interface GridPoint {
        void at(int outputIndex, double x, double y, double z);
    }

    /** Visits the grid in output order ([z][y][x]), mapping each point into the volume. */
    private void forEachGridPoint(VolumeGeometry g, GridPoint visitor) {
        Mapping m = new Mapping(g);
        int[] gs = spec.gridSize();
        double[] idx = new double[3];
        int o = 0;
        for (int k = 0; k < gs[2]; k++) {
            for (int j = 0; j < gs[1]; j++) {
                for (int i = 0; i < gs[0]; i++, o++) {
                    m.toIndex(i, j, k, idx);
                    visitor.at(o, idx[0], idx[1], idx[2]);
                }
            }
        }
    }

    /** Volume of one grid voxel, mm³. */
    public double voxelVolumeMm3() {
        return spec.spacingMm()[0] * spec.spacingMm()[1] * spec.spacingMm()[2];
    }

    private static float trilinear(short[] hu, int[] vs, double x, double y, double z, float outside) {
        // Samples beyond the outermost voxel centres are outside the acquired volume.
        if (x < 0 || y < 0 || z < 0 || x > vs[0] - 1 || y > vs[1] - 1 || z > vs[2] - 1) {
            return outside;
        }
        int x0 = Math.min((int) x, vs[0] - 1);
        int y0 = Math.min((int) y, vs[1] - 1);
        int z0 = Math.min((int) z, vs[2] - 1);
        int x1 = Math.min(x0 + 1, vs[0] - 1);
        int y1 = Math.min(y0 + 1, vs[1] - 1);
        int z1 = Math.min(z0 + 1, vs[2] - 1);
        double fx = x - x0;
        double fy = y - y0;
        double fz = z - z0;
        int sx = vs[0];
        int sxy = vs[0] * vs[1];
        double c00 = hu[z0 * sxy + y0 * sx + x0] * (1 - fx) + hu[z0 * sxy + y0 * sx + x1] * fx;
        double c01 = hu[z0 * sxy + y1 * sx + x0] * (1 - fx) + hu[z0 * sxy + y1 * sx + x1] * fx;
        double c10 = hu[z1 * sxy + y0 * sx + x0] * (1 - fx) + hu[z1 * sxy + y0 * sx + x1] * fx;
        double c11 = hu[z1 * sxy + y1 * sx + x0] * (1 - fx) + hu[z1 * sxy + y1 * sx + x1] * fx;
        double c0 = c00 * (1 - fy) + c01 * fy;
        double c1 = c10 * (1 - fy) + c11 * fy;
        return (float) (c0 * (1 - fz) + c1 * fz);
    }

    /** Grid voxel → continuous volume index, through the inverse of the volume's affine. */
    private final class Mapping {
        private final double[][] inverse;
        private final double[] origin;
        private final double[] gridOrigin = new double[3];

        Mapping(VolumeGeometry g) {
            double[][] a = new double[3][3];
            for (int r = 0; r < 3; r++) {
                a[r][0] = g.rowDirection()[r] * g.spacing()[0];
                a[r][1] = g.columnDirection()[r] * g.spacing()[1];
                a[r][2] = g.sliceDirection()[r] * g.spacing()[2];
            }
            inverse = invert(a);
            origin = g.origin();
            // Centre of the volume's bounding box: the mean of two opposite corner voxel centres.
            int[] s = g.size();
            double[] far = g.positionOf(s[0] - 1, s[1] - 1, s[2] - 1);
            for (int r = 0; r < 3; r++) {
                double centre = (origin[r] + far[r]) / 2;
                gridOrigin[r] = centre - (spec.gridSize()[r] - 1) / 2.0 * spec.spacingMm()[r];
            }
        }

        void toIndex(int i, int j, int k, double[] out) {
            double px = gridOrigin[0] + i * spec.spacingMm()[0] - origin[0];
            double py = gridOrigin[1] + j * spec.spacingMm()[1] - origin[1];
            double pz = gridOrigin[2] + k * spec.spacingMm()[2] - origin[2];
            for (int r = 0; r < 3; r++) {
                out[r] = inverse[r][0] * px + inverse[r][1] * py + inverse[r][2] * pz;
            }
        }
    }

    private static double[][] invert(double[][] m) {
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
}
