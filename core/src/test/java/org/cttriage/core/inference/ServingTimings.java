package org.cttriage.core.inference;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.cttriage.core.volume.VolumeGeometry;

/**
 * A timing loop (not a test) for two of the serving path's Java steps, behind the figures in docs/benchmarks.md
 * (2026-12-07): the organ crop sampling of a 1.5 mm lung crop (112 x 128 x 192, 2 x 2 x 1 samples) on a
 * 512 x 512 x 300 volume of random HU, general path against the per-axis tables, and its mask; and the dot filter on
 * a synthetic lung crop (500 random tubes at 30 HU in -850 HU). Prints milliseconds per iteration; the first
 * iterations warm the JIT. Run after {@code mvn -o -q install -pl test-data,core -DskipTests} and {@code mvn -o -q
 * package -pl plugin -DskipTests}:
 * <pre>
 * java -cp core/target/test-classes:core/target/classes:$(ls plugin/target/lib/*.jar | grep -v ct-triage-core | tr '\n' ':') \
 *   org.cttriage.core.inference.ServingTimings
 * </pre>
 */
public final class ServingTimings {
    private ServingTimings() {
    }

    public static void main(String[] args) {
        VolumeGeometry g = new VolumeGeometry(new int[] {512, 512, 300}, new double[] {400.0 / 512, 400.0 / 512, 1.25},
                new double[] {-200, -200, -180}, new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, 1}, 0);
        Random random = new Random(1);
        short[] hu = new short[512 * 512 * 300];
        for (int i = 0; i < hu.length; i++) {
            hu[i] = (short) (random.nextInt(2000) - 1000);
        }
        OrganCropSpec spec = new OrganCropSpec(new int[] {2, 2, 1}, -1024,
                List.of(new PreprocessingSpec.Window("wide", -1024, 1024, PreprocessingSpec.Reduce.MEAN)),
                List.of(new OrganCropSpec.OrganGrid("lung", 1, true, new int[] {112, 128, 192}, new double[] {1.5, 1.5, 1.5}, 6)));
        OrganCrops crops = new OrganCrops(spec);
        OrganCrops.CropGrid grid = crops.grid(spec.organ("lung"), new double[] {-120, -60, -100}, new double[] {-10, 60, 120});
        double[][] offsets = crops.footprintOffsets(g, grid.organ());
        OrganCrops.Aligned tables = OrganCrops.Aligned.of(g, grid, new int[] {2, 2, 1}, offsets);
        VolumeGeometry coarse = new VolumeGeometry(new int[] {64, 64, 48}, new double[] {6.25, 6.25, 7.5},
                new double[] {-200, -200, -180}, new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, 1}, 0);
        byte[] labels = new byte[64 * 64 * 48];
        double[][] coarseOffsets = crops.footprintOffsets(coarse, grid.organ());
        for (int it = 0; it < 8; it++) {
            long t0 = System.nanoTime();
            crops.reduceGeneral(hu, g, grid, offsets);
            long t1 = System.nanoTime();
            crops.reduceAligned(hu, g, grid, tables, true);
            long t2 = System.nanoTime();
            crops.reduceAligned(hu, g, grid, tables, false);
            long t3 = System.nanoTime();
            crops.labelFractionGeneral(labels, coarse, grid, 1, coarseOffsets);
            long t4 = System.nanoTime();
            crops.labelFraction(labels, coarse, grid, 1);
            long t5 = System.nanoTime();
            System.out.printf("crop: general %d, tables %d, tables mean only %d ms; mask: general %d, tables %d ms%n",
                    ms(t1 - t0), ms(t2 - t1), ms(t3 - t2), ms(t4 - t3), ms(t5 - t4));
        }
        int[] size = {112, 128, 192};
        float[] lung = syntheticLung(size, new Random(3));
        float[] mask = new float[lung.length];
        for (int z = 4; z < size[2] - 4; z++) {
            for (int y = 6; y < size[1] - 6; y++) {
                Arrays.fill(mask, (z * size[1] + y) * size[0] + 5, (z * size[1] + y) * size[0] + size[0] - 5, 1f);
            }
        }
        int[] cells = DotFilters.cells(DotFilters.region(lung, mask, size, 2, -750));
        DotFilters.Filter filter = new DotFilters.Filter("lung", List.of("pulmonary_nodule"),
                new OrganCropSpec.OrganGrid("lung", 1, true, size, new double[] {1.5, 1.5, 1.5}, 6),
                new double[] {1.5, 2.5, 4.0, 6.0}, -1000, -400, -750, 2, 60, null);
        System.out.printf("dot filter: %d cells, %.1f %% of the crop%n", cells.length, 100.0 * cells.length / lung.length);
        for (int it = 0; it < 10; it++) {
            long t0 = System.nanoTime();
            DotFilters.dot(lung, cells, size, filter);
            System.out.printf("dot filter: %d ms%n", ms(System.nanoTime() - t0));
        }
    }

    /** -850 HU with 500 random straight tubes of 1-2.5 voxels' radius at 30 HU. */
    private static float[] syntheticLung(int[] size, Random r) {
        int nx = size[0];
        int ny = size[1];
        int nz = size[2];
        float[] h = new float[nx * ny * nz];
        Arrays.fill(h, -850f);
        for (int t = 0; t < 500; t++) {
            double[] p = {r.nextDouble() * nx, r.nextDouble() * ny, r.nextDouble() * nz};
            double[] d = {r.nextGaussian(), r.nextGaussian(), r.nextGaussian()};
            double norm = Math.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
            double radius = 1 + 1.5 * r.nextDouble();
            int length = 20 + r.nextInt(60);
            for (int s = 0; s < length; s++) {
                double cx = p[0] + d[0] / norm * s;
                double cy = p[1] + d[1] / norm * s;
                double cz = p[2] + d[2] / norm * s;
                for (int z = (int) (cz - radius); z <= cz + radius; z++) {
                    for (int y = (int) (cy - radius); y <= cy + radius; y++) {
                        for (int x = (int) (cx - radius); x <= cx + radius; x++) {
                            boolean in = x >= 0 && y >= 0 && z >= 0 && x < nx && y < ny && z < nz;
                            if (in && (x - cx) * (x - cx) + (y - cy) * (y - cy) + (z - cz) * (z - cz) <= radius * radius) {
                                h[(z * ny + y) * nx + x] = 30f;
                            }
                        }
                    }
                }
            }
        }
        return h;
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }
}
