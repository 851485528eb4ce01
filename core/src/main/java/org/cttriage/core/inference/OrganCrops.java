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
        float[][] reduced = reduce(volume.hu(), volume.geometry(), grid, true);
        return new Footprint(window(reduced, grid.organ().voxels()), reduced[PreprocessingSpec.Reduce.MEAN.ordinal()],
                reduced[PreprocessingSpec.Reduce.MAX.ordinal()]);
    }

    /** Model input of one crop, [channel, z, y, x] flattened. */
    public float[] channels(Volume volume, CropGrid grid) {
        return window(reduce(volume.hu(), volume.geometry(), grid, true), grid.organ().voxels());
    }

    /** The spec's windows of the footprint reductions, one channel each (channels in parallel). */
    private float[] window(float[][] reduced, int n) {
        float[] out = new float[n * spec.channels().size()];
        IntStream.range(0, spec.channels().size()).parallel().forEach(c -> {
            PreprocessingSpec.Window w = spec.channels().get(c);
            float[] hu = reduced[w.reduce().ordinal()];
            double scale = 2.0 / (w.upperHu() - w.lowerHu());
            for (int v = 0; v < n; v++) {
                double x = Math.max(w.lowerHu(), Math.min(w.upperHu(), hu[v]));
                out[c * n + v] = (float) ((x - w.lowerHu()) * scale - 1.0);
            }
        });
        return out;
    }

    /** The footprint mean HU of every crop voxel, unwindowed ([z, y, x]); for analysis and pictures. */
    public float[] meanHu(Volume volume, CropGrid grid) {
        return reduce(volume.hu(), volume.geometry(), grid, false)[PreprocessingSpec.Reduce.MEAN.ordinal()];
    }

    /**
     * Fraction of each crop voxel's footprint samples whose nearest volume voxel carries
     * {@code label} (a soft organ mask at the crop's spacing); 0 outside the volume.
     */
    public float[] labelFraction(byte[] labels, VolumeGeometry g, CropGrid grid, int label) {
        double[][] offsets = footprintOffsets(g, grid.organ());
        Aligned aligned = Aligned.of(g, grid, spec.footprintSamples(), offsets);
        if (aligned != null) {
            return aligned.labelFraction(labels, g.size(), label, offsets.length);
        }
        return labelFractionGeneral(labels, g, grid, label, offsets);
    }

    /** {@link #labelFraction} for any orientation. */
    float[] labelFractionGeneral(byte[] labels, VolumeGeometry g, CropGrid grid, int label, double[][] offsets) {
        float[] out = new float[grid.organ().voxels()];
        int[] vs = g.size();
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

    /**
     * Mean, min and max of each crop voxel's footprint samples, indexed by {@link PreprocessingSpec.Reduce#ordinal()}:
     * from per-axis tables where the volume's axes are the crop's, else through the inverse affine. Without
     * {@code extremes}, an axis-aligned volume gets the mean only.
     */
    private float[][] reduce(short[] hu, VolumeGeometry g, CropGrid grid, boolean extremes) {
        double[][] offsets = footprintOffsets(g, grid.organ());
        Aligned aligned = Aligned.of(g, grid, spec.footprintSamples(), offsets);
        return aligned != null ? reduceAligned(hu, g, grid, aligned, extremes) : reduceGeneral(hu, g, grid, offsets);
    }

    /** {@link #reduce} for any orientation: each sample's volume index from the inverse affine. */
    float[][] reduceGeneral(short[] hu, VolumeGeometry g, CropGrid grid, double[][] offsets) {
        int n = grid.organ().voxels();
        float[] mean = new float[n];
        float[] min = new float[n];
        float[] max = new float[n];
        int[] vs = g.size();
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

    /**
     * {@link #reduce} for a volume whose axes are the crop's ({@link Aligned}): the same samples, the same arithmetic
     * in the same order (so the same floats, OrganCropsTest), from per-axis tables instead of a matrix product and
     * three roundings per sample. Without {@code extremes}, the mean only (min and max left 0).
     */
    float[][] reduceAligned(short[] hu, VolumeGeometry g, CropGrid grid, Aligned t, boolean extremes) {
        return t.reduce(hu, g.size(), (float) spec.outsideHu(), extremes);
    }

    /**
     * Per-axis sample tables of a volume whose inverse affine is diagonal (its rows, columns and slices along x, y and
     * z of LPS, either way: every axial series without gantry tilt). Then a footprint sample's index along volume axis
     * r depends only on the crop index and the footprint sample along r, and {@link #trilinear}'s rounding to
     * millionths, its bounds test, its cell and its weight are computed once per (crop index, sample) of each axis:
     * {@code fs[r]} of them per crop index, where the general path computes all three per sample of every crop voxel.
     * The index-space position is the same double as the general path's (the off-diagonal products are ±0), so the
     * tables hold the same integers and weights.
     */
    static final class Aligned {
        final int[] n;
        final int[] fs;
        /** Per axis, per (crop index × fs + sample): trilinear's lower and upper cell index and weight, whether outside. */
        final int[][] low = new int[3][];
        final int[][] high = new int[3][];
        final double[][] fraction = new double[3][];
        final boolean[][] outside = new boolean[3][];
        /** Per axis, per (crop index × fs + sample): the nearest voxel's index, -1 outside the volume (crops only). */
        final int[][] nearest = new int[3][];

        private Aligned(int[] n, int[] fs) {
            this.n = n;
            this.fs = fs;
        }

        /** The tables of an organ crop (OrganCrops' sampling), or null when the volume's axes are not the crop's. */
        static Aligned of(VolumeGeometry g, CropGrid grid, int[] fs, double[][] offsets) {
            double[][] x = positions(g, grid.organ().gridSize(), grid.organ().spacingMm(), grid.originLps(), fs, offsets);
            if (x == null) {
                return null;
            }
            int[] vs = g.size();
            Aligned t = new Aligned(grid.organ().gridSize(), fs.clone());
            for (int r = 0; r < 3; r++) {
                t.allocate(r, x[r].length);
                t.nearest[r] = new int[x[r].length];
                for (int at = 0; at < x[r].length; at++) {
                    long u = micro(x[r][at]);
                    t.outside[r][at] = u < 0 || u > (vs[r] - 1) * MICRO;
                    int lower = (int) (u / MICRO);
                    t.low[r][at] = lower;
                    t.high[r][at] = Math.min(lower + 1, vs[r] - 1);
                    t.fraction[r][at] = (double) (u - lower * MICRO) / MICRO;
                    long near = Math.floorDiv(u + MICRO / 2, MICRO);
                    t.nearest[r][at] = near < 0 || near >= vs[r] ? -1 : (int) near;
                }
            }
            return t;
        }

        /**
         * The tables of the whole-volume grid ({@link Preprocessor}'s sampling: the index-space position itself, no
         * rounding to millionths; no nearest voxels), or null when the volume's axes are not the grid's.
         */
        static Aligned ofGrid(VolumeGeometry g, int[] n, double[] spacing, double[] gridOrigin, int[] fs,
                              double[][] offsets) {
            double[][] x = positions(g, n, spacing, gridOrigin, fs, offsets);
            if (x == null) {
                return null;
            }
            int[] vs = g.size();
            Aligned t = new Aligned(n.clone(), fs.clone());
            for (int r = 0; r < 3; r++) {
                t.allocate(r, x[r].length);
                for (int at = 0; at < x[r].length; at++) {
                    double v = x[r][at];
                    t.outside[r][at] = v < 0 || v > vs[r] - 1;
                    int lower = t.outside[r][at] ? 0 : Math.min((int) v, vs[r] - 1);
                    t.low[r][at] = lower;
                    t.high[r][at] = Math.min(lower + 1, vs[r] - 1);
                    t.fraction[r][at] = v - lower;
                }
            }
            return t;
        }

        private void allocate(int r, int m) {
            low[r] = new int[m];
            high[r] = new int[m];
            fraction[r] = new double[m];
            outside[r] = new boolean[m];
        }

        /**
         * Per axis r, the index-space position along r of every (grid index × fs[r] + sample) of a grid of size
         * {@code n}, spacing and origin (LPS) on volume {@code g}, its footprint {@code offsets} in index space; null
         * when g's inverse affine is not diagonal. The general paths' position is inverse · (grid position - volume
         * origin) + offset; with a diagonal inverse the other axes' products are ±0, so this is the same double.
         */
        private static double[][] positions(VolumeGeometry g, int[] n, double[] spacing, double[] gridOrigin, int[] fs,
                                            double[][] offsets) {
            double[][] inverse = g.inverseAffine();
            for (int r = 0; r < 3; r++) {
                for (int c = 0; c < 3; c++) {
                    if (r != c && inverse[r][c] != 0) {
                        return null;
                    }
                }
            }
            double[] origin = g.origin();
            double[][] out = new double[3][];
            for (int r = 0; r < 3; r++) {
                out[r] = new double[n[r] * fs[r]];
                for (int i = 0; i < n[r]; i++) {
                    double x = inverse[r][r] * (gridOrigin[r] + i * spacing[r] - origin[r]);
                    for (int a = 0; a < fs[r]; a++) {
                        out[r][i * fs[r] + a] = x + offsets[sampleIndex(fs, r, a)][r];
                    }
                }
            }
            return out;
        }

        /**
         * Mean, min and max (without {@code extremes}: mean only, min and max empty) of each voxel's footprint samples
         * of {@code hu} (a volume of size {@code vs}), trilinear, {@code outsideHu} outside the volume. A row of the grid
         * at a time, its samples in the order the general paths take them (z, then y, then x fastest), so that each
         * voxel's sum adds the same values in the same order; the y and z of a sample are the row's.
         */
        float[][] reduce(short[] hu, int[] vs, float outsideHu, boolean extremes) {
            int voxels = n[0] * n[1] * n[2];
            float[] mean = new float[voxels];
            float[] min = new float[extremes ? voxels : 0];
            float[] max = new float[extremes ? voxels : 0];
            int sx = vs[0];
            int sxy = vs[0] * vs[1];
            int count = fs[0] * fs[1] * fs[2];
            int nx = n[0];
            IntStream.range(0, n[2]).parallel().forEach(k -> {
                double[] sum = new double[nx];
                float[] lo = new float[nx];
                float[] hi = new float[nx];
                RowCache rows = new RowCache(nx * fs[0]);
                for (int j = 0; j < n[1]; j++) {
                    java.util.Arrays.fill(sum, 0);
                    java.util.Arrays.fill(lo, Float.POSITIVE_INFINITY);
                    java.util.Arrays.fill(hi, Float.NEGATIVE_INFINITY);
                    for (int c = 0; c < fs[2]; c++) {
                        int sz = k * fs[2] + c;
                        for (int b = 0; b < fs[1]; b++) {
                            int sy = j * fs[1] + b;
                            boolean out = outside[1][sy] || outside[2][sz];
                            double[] x00 = null;
                            double[] x01 = null;
                            double[] x10 = null;
                            double[] x11 = null;
                            if (!out) { // the volume rows' x-interpolations, shared by the samples that read them
                                x00 = rows.row(hu, low[2][sz] * sxy + low[1][sy] * sx);
                                x01 = rows.row(hu, low[2][sz] * sxy + high[1][sy] * sx);
                                x10 = rows.row(hu, high[2][sz] * sxy + low[1][sy] * sx);
                                x11 = rows.row(hu, high[2][sz] * sxy + high[1][sy] * sx);
                            }
                            double fy = fraction[1][sy];
                            double fz = fraction[2][sz];
                            double gy = 1 - fy;
                            double gz = 1 - fz;
                            for (int i = 0, sa = 0; i < nx; i++) {
                                for (int a = 0; a < fs[0]; a++, sa++) {
                                    float v;
                                    if (out || outside[0][sa]) {
                                        v = outsideHu;
                                    } else {
                                        double c0 = x00[sa] * gy + x01[sa] * fy;
                                        double c1 = x10[sa] * gy + x11[sa] * fy;
                                        v = (float) (c0 * gz + c1 * fz);
                                    }
                                    sum[i] += v;
                                    if (extremes) {
                                        lo[i] = Math.min(lo[i], v);
                                        hi[i] = Math.max(hi[i], v);
                                    }
                                }
                            }
                        }
                    }
                    int o = (k * n[1] + j) * nx;
                    for (int i = 0; i < nx; i++) {
                        mean[o + i] = (float) (sum[i] / count);
                        if (extremes) {
                            min[o + i] = lo[i];
                            max[o + i] = hi[i];
                        }
                    }
                }
            });
            return new float[][] {mean, min, max};
        }

        /**
         * The x-interpolations of the last few volume rows a crop slice's samples read: {@code hu[row + x0] · (1 − fx) +
         * hu[row + x1] · fx} at every x sample (0 where the sample is outside the volume), the very term of the
         * trilinear interpolation, so that a row read by two samples (the two rows of one and the next one's lower
         * row) is interpolated once. One sample reads four rows (two per plane of the slice) and the rows advance
         * with the samples, so the least recently used of six is the one to replace: never one of the rows the
         * sample has just asked for. ServingTimings' 1.5 mm lung crop: 56-61 ms mean only, 65-80 ms with the extremes
         * before; 43-48 and 56-61 ms with it.
         */
        private final class RowCache {
            private final int[] keys = {-1, -1, -1, -1, -1, -1};
            private final long[] used = new long[keys.length];
            private final double[][] values;
            private long clock;

            RowCache(int samples) {
                values = new double[keys.length][samples];
            }

            double[] row(short[] hu, int row) {
                clock++;
                int oldest = 0;
                for (int e = 0; e < keys.length; e++) {
                    if (keys[e] == row) {
                        used[e] = clock;
                        return values[e];
                    }
                    if (used[e] < used[oldest]) {
                        oldest = e;
                    }
                }
                double[] x = values[oldest];
                for (int sa = 0; sa < x.length; sa++) {
                    if (outside[0][sa]) {
                        x[sa] = 0;
                    } else {
                        x[sa] = hu[row + low[0][sa]] * (1 - fraction[0][sa]) + hu[row + high[0][sa]] * fraction[0][sa];
                    }
                }
                keys[oldest] = row;
                used[oldest] = clock;
                return x;
            }
        }

        /**
         * The fraction of each voxel's footprint samples whose nearest voxel of {@code labels} (a volume of size
         * {@code vs}) is {@code label}; {@code samples} per voxel. A grid row at a time: its samples' rows of the label
         * volume once, the counts exact.
         */
        float[] labelFraction(byte[] labels, int[] vs, int label, int samples) {
            float[] out = new float[n[0] * n[1] * n[2]];
            int nx = n[0];
            IntStream.range(0, n[2]).parallel().forEach(k -> {
                int[] hits = new int[nx];
                for (int j = 0; j < n[1]; j++) {
                    java.util.Arrays.fill(hits, 0);
                    for (int c = 0; c < fs[2]; c++) {
                        int z = nearest[2][k * fs[2] + c];
                        for (int b = 0; b < fs[1]; b++) {
                            int y = nearest[1][j * fs[1] + b];
                            if (z < 0 || y < 0) {
                                continue;
                            }
                            int row = (z * vs[1] + y) * vs[0];
                            for (int i = 0, sa = 0; i < nx; i++) {
                                for (int a = 0; a < fs[0]; a++, sa++) {
                                    int x = nearest[0][sa];
                                    if (x >= 0 && labels[row + x] == label) {
                                        hits[i]++;
                                    }
                                }
                            }
                        }
                    }
                    int o = (k * n[1] + j) * nx;
                    for (int i = 0; i < nx; i++) {
                        out[o + i] = (float) hits[i] / samples;
                    }
                }
            });
            return out;
        }

        /** The footprint sample that is {@code a} along axis {@code r} and first along the others. */
        private static int sampleIndex(int[] fs, int r, int a) {
            return r == 0 ? a : r == 1 ? a * fs[0] : a * fs[0] * fs[1];
        }
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
    double[][] footprintOffsets(VolumeGeometry g, OrganCropSpec.OrganGrid organ) {
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
