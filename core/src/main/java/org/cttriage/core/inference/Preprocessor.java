package org.cttriage.core.inference;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.stream.IntStream;
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
        EnumSet<PreprocessingSpec.Reduce> wanted = EnumSet.noneOf(PreprocessingSpec.Reduce.class);
        spec.channels().forEach(w -> wanted.add(w.reduce()));
        Map<PreprocessingSpec.Reduce, float[]> reduced = reduce(volume.hu(), volume.geometry(), wanted);
        int n = spec.voxels();
        float[] out = new float[n * spec.channels().size()];
        for (int c = 0; c < spec.channels().size(); c++) {
            PreprocessingSpec.Window w = spec.channels().get(c);
            float[] hu = reduced.get(w.reduce());
            double scale = 2.0 / (w.upperHu() - w.lowerHu());
            for (int v = 0; v < n; v++) {
                double x = Math.max(w.lowerHu(), Math.min(w.upperHu(), hu[v]));
                out[c * n + v] = (float) ((x - w.lowerHu()) * scale - 1.0);
            }
        }
        return out;
    }

    /**
     * HU on the grid: the mean of each voxel's footprint samples (with one sample per voxel,
     * trilinear interpolation at its centre); outside the volume {@code outsideHu}.
     */
    public float[] resampleHu(short[] hu, VolumeGeometry g) {
        return reduce(hu, g, EnumSet.of(PreprocessingSpec.Reduce.MEAN)).get(PreprocessingSpec.Reduce.MEAN);
    }

    /** The wanted reductions of every grid voxel's footprint samples. */
    private Map<PreprocessingSpec.Reduce, float[]> reduce(short[] hu, VolumeGeometry g,
                                                        EnumSet<PreprocessingSpec.Reduce> wanted) {
        return reduce(hu, g, wanted, true);
    }

    /**
     * {@link #reduce(short[], VolumeGeometry, EnumSet)}; with {@code tables}, an axis-aligned volume takes per-axis
     * sample tables ({@link OrganCrops.Aligned}), the same floats as the general path (PreprocessorTest).
     */
    Map<PreprocessingSpec.Reduce, float[]> reduce(short[] hu, VolumeGeometry g, EnumSet<PreprocessingSpec.Reduce> wanted,
                                                  boolean tables) {
        Map<PreprocessingSpec.Reduce, float[]> out = new EnumMap<>(PreprocessingSpec.Reduce.class);
        int[] vs = g.size();
        Mapping m = new Mapping(g);
        double[][] offsets = m.footprintOffsets();
        float outside = (float) spec.outsideHu();
        OrganCrops.Aligned aligned = !tables ? null : OrganCrops.Aligned.ofGrid(g, spec.gridSize(), spec.spacingMm(),
                m.gridOrigin, spec.footprintSamples(), offsets);
        if (aligned != null) { // its reductions come indexed by Reduce.ordinal()
            float[][] r = aligned.reduce(hu, vs, outside, wanted.contains(PreprocessingSpec.Reduce.MIN)
                    || wanted.contains(PreprocessingSpec.Reduce.MAX));
            wanted.forEach(w -> out.put(w, r[w.ordinal()]));
            return out;
        }
        wanted.forEach(r -> out.put(r, new float[spec.voxels()]));
        float[] meanOut = out.get(PreprocessingSpec.Reduce.MEAN);
        float[] minOut = out.get(PreprocessingSpec.Reduce.MIN);
        float[] maxOut = out.get(PreprocessingSpec.Reduce.MAX);
        forEachGridPoint(m, (o, x, y, z) -> {
            double sum = 0;
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (double[] d : offsets) {
                float v = trilinear(hu, vs, x + d[0], y + d[1], z + d[2], outside);
                sum += v;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            if (meanOut != null) {
                meanOut[o] = (float) (sum / offsets.length);
            }
            if (minOut != null) {
                minOut[o] = lo;
            }
            if (maxOut != null) {
                maxOut[o] = hi;
            }
        });
        return out;
    }

    /** Labels on the grid by nearest neighbour; outside the volume 0. */
    public byte[] resampleLabels(byte[] labels, VolumeGeometry g) {
        int[] vs = g.size();
        byte[] out = new byte[spec.voxels()];
        forEachGridPoint(new Mapping(g), (o, x, y, z) -> {
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

    /**
     * Visits every grid point with its continuous index in the volume. Grid slices are visited in
     * parallel; a visitor writes only its own output index, so the result does not depend on the
     * number of threads.
     */
    private void forEachGridPoint(Mapping m, GridPoint visitor) {
        int[] gs = spec.gridSize();
        IntStream.range(0, gs[2]).parallel().forEach(k -> {
            double[] idx = new double[3];
            int o = k * gs[1] * gs[0];
            for (int j = 0; j < gs[1]; j++) {
                for (int i = 0; i < gs[0]; i++, o++) {
                    m.toIndex(i, j, k, idx);
                    visitor.at(o, idx[0], idx[1], idx[2]);
                }
            }
        });
    }

    /**
     * Patient position (LPS, mm) of grid voxel (0, 0, 0) for a volume: the grid is axis-aligned
     * in patient coordinates and centred on the centre of the volume's bounding box (the mean of
     * two opposite corner voxel centres), so grid voxel (i, j, k) lies at this origin plus
     * (i, j, k) times the spec's spacing.
     */
    public double[] gridOrigin(VolumeGeometry g) {
        int[] s = g.size();
        double[] near = g.origin();
        double[] far = g.positionOf(s[0] - 1, s[1] - 1, s[2] - 1);
        double[] out = new double[3];
        for (int r = 0; r < 3; r++) {
            out[r] = (near[r] + far[r]) / 2 - (spec.gridSize()[r] - 1) / 2.0 * spec.spacingMm()[r];
        }
        return out;
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
            inverse = g.inverseAffine();
            origin = g.origin();
            System.arraycopy(gridOrigin(g), 0, gridOrigin, 0, 3);
        }

        /**
         * The footprint samples of a grid voxel as offsets in volume index space: a lattice
         * of {@code footprintSamples} points, each at the centre of its share of the voxel.
         */
        double[][] footprintOffsets() {
            int[] fs = spec.footprintSamples();
            double[][] out = new double[spec.samplesPerVoxel()][3];
            int s = 0;
            for (int c = 0; c < fs[2]; c++) {
                for (int b = 0; b < fs[1]; b++) {
                    for (int a = 0; a < fs[0]; a++, s++) {
                        double px = ((a + 0.5) / fs[0] - 0.5) * spec.spacingMm()[0];
                        double py = ((b + 0.5) / fs[1] - 0.5) * spec.spacingMm()[1];
                        double pz = ((c + 0.5) / fs[2] - 0.5) * spec.spacingMm()[2];
                        for (int r = 0; r < 3; r++) {
                            out[s][r] = inverse[r][0] * px + inverse[r][1] * py + inverse[r][2] * pz;
                        }
                    }
                }
            }
            return out;
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
}
