package org.cttriage.core.inference;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.cttriage.core.volume.Volume;
import org.cttriage.core.volume.VolumeGeometry;

/**
 * The one implementation of organ crops (the second stage of issue 12's two-stage model), used
 * both by the training-crop generator and, later, at inference, so that a crop is the same array
 * whichever volume it is cut from: it depends only on the HU in patient space, the organ's box and
 * the {@link OrganCropSpec}, not on the volume's extent or voxel order (OrganCropsTest).
 *
 * <p>A crop grid is axis-aligned in LPS (x towards the patient's left, y posterior, z superior),
 * of the organ's fixed size and spacing, centred on the centre of the organ's box. Each crop
 * voxel takes {@code footprintSamples} trilinear HU samples spread evenly over its own extent and
 * reduces them per channel (mean, min or max), then clips to the channel's window and maps it to
 * [-1, 1], as the whole-volume {@link Preprocessor} does. Layout [channel, z, y, x].
 */
public final class OrganCrops {
    private final OrganCropSpec spec;

    public OrganCrops(OrganCropSpec spec) {
        this.spec = spec;
    }

    public OrganCropSpec spec() {
        return spec;
    }

    /**
     * Where one crop lies.
     *
     * @param organ     the organ's grid
     * @param originLps centre of crop voxel (0, 0, 0), LPS mm
     * @param coversBox whether the organ's box plus the organ's margin fits inside the grid on every axis
     */
    public record CropGrid(OrganCropSpec.OrganGrid organ, double[] originLps, boolean coversBox) {
        public CropGrid {
            originLps = originLps.clone();
        }

        @Override
        public double[] originLps() {
            return originLps.clone();
        }

        /** LPS position of the centre of crop voxel (i, j, k). */
        public double[] positionOf(double i, double j, double k) {
            double[] s = organ.spacingMm();
            return new double[] {originLps[0] + i * s[0], originLps[1] + j * s[1], originLps[2] + k * s[2]};
        }

        @Override
        public String toString() {
            return "CropGrid[" + organ.name() + ", origin=" + Arrays.toString(originLps) + ", coversBox=" + coversBox + "]";
        }
    }

    /**
     * The crop grid of {@code organ} for a box given by two opposite corners in LPS mm (any order):
     * centred on the box centre, at the organ's size and spacing.
     */
    public CropGrid grid(OrganCropSpec.OrganGrid organ, double[] boxCornerA, double[] boxCornerB) {
        int[] n = organ.gridSize();
        double[] s = organ.spacingMm();
        double[] origin = new double[3];
        boolean covers = true;
        for (int a = 0; a < 3; a++) {
            double lo = Math.min(boxCornerA[a], boxCornerB[a]);
            double hi = Math.max(boxCornerA[a], boxCornerB[a]);
            origin[a] = (lo + hi) / 2 - (n[a] - 1) / 2.0 * s[a];
            covers &= hi - lo + 2 * organ.marginMm() <= organ.extentMm(a);
        }
        return new CropGrid(organ, origin, covers);
    }

    /**
     * One crop's model input and its footprint-mean HU, from one footprint reduction.
     *
     * @param channels the model input, [channel, z, y, x] flattened ({@link #channels})
     * @param meanHu   the footprint mean HU of every crop voxel, unwindowed, [z, y, x] ({@link #meanHu})
     * @param maxHu    the footprint maximum HU of every crop voxel, unwindowed, [z, y, x]
     */
    public record Footprint(float[] channels, float[] meanHu, float[] maxHu) {
    }

    /** {@link #channels}, mean and maximum HU of one crop, reducing the volume's samples once for all. */
    public Footprint footprint(Volume volume, CropGrid grid) {
        float[][] reduced = reduce(volume.hu(), volume.geometry(), grid);
        return new Footprint(window(reduced, grid.organ().voxels()), reduced[PreprocessingSpec.Reduce.MEAN.ordinal()],
                reduced[PreprocessingSpec.Reduce.MAX.ordinal()]);
    }

    /** Model input of one crop, [channel, z, y, x] flattened. */
    public float[] channels(Volume volume, CropGrid grid) {
        return window(reduce(volume.hu(), volume.geometry(), grid), grid.organ().voxels());
    }

    /** The spec's windows of the footprint reductions, one channel each. */
    private float[] window(float[][] reduced, int n) {
        float[] out = new float[n * spec.channels().size()];
        for (int c = 0; c < spec.channels().size(); c++) {
            PreprocessingSpec.Window w = spec.channels().get(c);
            float[] hu = reduced[w.reduce().ordinal()];
            double scale = 2.0 / (w.upperHu() - w.lowerHu());
            for (int v = 0; v < n; v++) {
                double x = Math.max(w.lowerHu(), Math.min(w.upperHu(), hu[v]));
                out[c * n + v] = (float) ((x - w.lowerHu()) * scale - 1.0);
            }
        }
        return out;
    }

    /** The footprint mean HU of every crop voxel, unwindowed ([z, y, x]); for analysis and pictures. */
    public float[] meanHu(Volume volume, CropGrid grid) {
        return reduce(volume.hu(), volume.geometry(), grid)[PreprocessingSpec.Reduce.MEAN.ordinal()];
    }

    /**
     * Fraction of each crop voxel's footprint samples whose nearest volume voxel carries
     * {@code label} (a soft organ mask at the crop's spacing); 0 outside the volume.
     */
    public float[] labelFraction(byte[] labels, VolumeGeometry g, CropGrid grid, int label) {
        float[] out = new float[grid.organ().voxels()];
        int[] vs = g.size();
        double[][] offsets = footprintOffsets(g, grid.organ());
        forEachCropVoxel(g, grid, (o, x, y, z) -> {
            int hits = 0;
            for (double[] d : offsets) {
                int idx = nearest(vs, x + d[0], y + d[1], z + d[2]);
                if (idx >= 0 && labels[idx] == label) {
                    hits++;
                }
            }
            out[o] = (float) hits / offsets.length;
        });
        return out;
    }

    /**
     * Bitwise OR of the bit masks at each crop voxel's footprint samples (nearest volume voxel), so
     * that a lesion smaller than a crop voxel still marks the voxel it lies in; 0 outside the volume.
     */
    public short[] bitsAny(short[] bits, VolumeGeometry g, CropGrid grid) {
        short[] out = new short[grid.organ().voxels()];
        int[] vs = g.size();
        double[][] offsets = footprintOffsets(g, grid.organ());
        forEachCropVoxel(g, grid, (o, x, y, z) -> {
            int acc = 0;
            for (double[] d : offsets) {
                int idx = nearest(vs, x + d[0], y + d[1], z + d[2]);
                if (idx >= 0) {
                    acc |= bits[idx];
                }
            }
            out[o] = (short) acc;
        });
        return out;
    }

    /** Mean, min and max of each crop voxel's footprint samples, indexed by {@link PreprocessingSpec.Reduce#ordinal()}. */
    private float[][] reduce(short[] hu, VolumeGeometry g, CropGrid grid) {
        int n = grid.organ().voxels();
        float[] mean = new float[n];
        float[] min = new float[n];
        float[] max = new float[n];
        int[] vs = g.size();
        double[][] offsets = footprintOffsets(g, grid.organ());
        float outside = (float) spec.outsideHu();
        forEachCropVoxel(g, grid, (o, x, y, z) -> {
            double sum = 0;
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (double[] d : offsets) {
                float v = trilinear(hu, vs, x + d[0], y + d[1], z + d[2], outside);
                sum += v;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            mean[o] = (float) (sum / offsets.length);
            min[o] = lo;
            max[o] = hi;
        });
        return new float[][] {mean, min, max};
    }

    /** Receives each crop voxel: its output index and its continuous index in the volume. */
    @FunctionalInterface
    private interface CropVoxel {
        void at(int outputIndex, double x, double y, double z);
    }

    /** Crop slices in parallel; each visitor writes only its own output index. */
    private static void forEachCropVoxel(VolumeGeometry g, CropGrid grid, CropVoxel visitor) {
        double[][] inverse = g.inverseAffine();
        double[] origin = g.origin();
        int[] n = grid.organ().gridSize();
        double[] s = grid.organ().spacingMm();
        double[] c0 = grid.originLps();
        IntStream.range(0, n[2]).parallel().forEach(k -> {
            int o = k * n[1] * n[0];
            double pz = c0[2] + k * s[2] - origin[2];
            for (int j = 0; j < n[1]; j++) {
                double py = c0[1] + j * s[1] - origin[1];
                for (int i = 0; i < n[0]; i++, o++) {
                    double px = c0[0] + i * s[0] - origin[0];
                    visitor.at(o, inverse[0][0] * px + inverse[0][1] * py + inverse[0][2] * pz,
                            inverse[1][0] * px + inverse[1][1] * py + inverse[1][2] * pz,
                            inverse[2][0] * px + inverse[2][1] * py + inverse[2][2] * pz);
                }
            }
        });
    }

    /** Footprint samples of a crop voxel as offsets in volume index space, each at the centre of its share. */
    private double[][] footprintOffsets(VolumeGeometry g, OrganCropSpec.OrganGrid organ) {
        double[][] inverse = g.inverseAffine();
        int[] fs = spec.footprintSamples();
        double[] sp = organ.spacingMm();
        double[][] out = new double[fs[0] * fs[1] * fs[2]][3];
        int s = 0;
        for (int c = 0; c < fs[2]; c++) {
            for (int b = 0; b < fs[1]; b++) {
                for (int a = 0; a < fs[0]; a++, s++) {
                    double px = ((a + 0.5) / fs[0] - 0.5) * sp[0];
                    double py = ((b + 0.5) / fs[1] - 0.5) * sp[1];
                    double pz = ((c + 0.5) / fs[2] - 0.5) * sp[2];
                    for (int r = 0; r < 3; r++) {
                        out[s][r] = inverse[r][0] * px + inverse[r][1] * py + inverse[r][2] * pz;
                    }
                }
            }
        }
        return out;
    }

    // Index-space positions are rounded to whole millionths of a voxel, and interpolation weights are
    // computed from those integers: a crop then does not depend on the rounding of the affine, so the
    // same patient-space content gives the same array from any volume that holds it (a sub-volume,
    // another origin), and a sample that lies on a voxel centre takes that voxel's value exactly.
    private static final long MICRO = 1_000_000L;

    private static long micro(double v) {
        return Math.round(v * MICRO);
    }

    private static int nearest(int[] vs, double x, double y, double z) {
        long i = Math.floorDiv(micro(x) + MICRO / 2, MICRO);
        long j = Math.floorDiv(micro(y) + MICRO / 2, MICRO);
        long k = Math.floorDiv(micro(z) + MICRO / 2, MICRO);
        if (i < 0 || j < 0 || k < 0 || i >= vs[0] || j >= vs[1] || k >= vs[2]) {
            return -1;
        }
        return (int) ((k * vs[1] + j) * vs[0] + i);
    }

    private static float trilinear(short[] hu, int[] vs, double x, double y, double z, float outside) {
        long ux = micro(x);
        long uy = micro(y);
        long uz = micro(z);
        // Samples beyond the outermost voxel centres are outside the acquired volume.
        if (ux < 0 || uy < 0 || uz < 0 || ux > (vs[0] - 1) * MICRO || uy > (vs[1] - 1) * MICRO
                || uz > (vs[2] - 1) * MICRO) {
            return outside;
        }
        int x0 = (int) (ux / MICRO);
        int y0 = (int) (uy / MICRO);
        int z0 = (int) (uz / MICRO);
        double fx = (double) (ux - x0 * MICRO) / MICRO;
        double fy = (double) (uy - y0 * MICRO) / MICRO;
        double fz = (double) (uz - z0 * MICRO) / MICRO;
        int x1 = Math.min(x0 + 1, vs[0] - 1);
        int y1 = Math.min(y0 + 1, vs[1] - 1);
        int z1 = Math.min(z0 + 1, vs[2] - 1);
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
}
