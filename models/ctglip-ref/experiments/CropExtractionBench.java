import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.cttriage.core.inference.OrganCropSpec;
import org.cttriage.core.inference.OrganCrops;
import org.cttriage.core.volume.Volume;
import org.cttriage.core.volume.VolumeGeometry;

/**
 * Time of the serving path's crop extraction ({@link OrganCrops#channels}) for the crops of one case
 * on a 512 x 512 x 300 volume (0.78 mm pixels, 1.5 mm slices), the volume of bin/ct-triage
 * bench-model: the Java half of the second stage's cost, beside CropEncoderBench's ONNX half. Content
 * does not change the cost (trilinear samples of random HU). An experiment, not part of the product.
 *
 * <p>Usage: {@code java -cp core/target/classes:JACKSON... CropExtractionBench.java organ-crops.json [runs] [organ...]}
 */
public final class CropExtractionBench {
    private CropExtractionBench() {
    }

    public static void main(String[] args) throws Exception {
        OrganCropSpec spec = OrganCropSpec.fromJson(new ObjectMapper().readTree(Path.of(args[0]).toFile()));
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        List<String> organs = args.length > 2 ? Arrays.asList(args).subList(2, args.length)
                : spec.organs().stream().map(OrganCropSpec.OrganGrid::name).toList();
        int[] size = {512, 512, 300};
        double[] spacing = {400.0 / 512, 400.0 / 512, 1.5};
        double[] origin = {-200 + spacing[0] / 2, -200 + spacing[1] / 2, -225};
        short[] hu = new short[size[0] * size[1] * size[2]];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < hu.length; i++) {
            hu[i] = (short) (r.nextInt(2048) - 1024);
        }
        Volume v = new Volume("", "", "", new VolumeGeometry(size, spacing, origin, new double[] {1, 0, 0},
                new double[] {0, 1, 0}, new double[] {0, 0, 1}, 0), hu, List.of(), List.of());
        OrganCrops crops = new OrganCrops(spec);
        System.out.printf("%d CPUs for the common pool; %d timed runs after 2 warm-up runs%n",
                Runtime.getRuntime().availableProcessors(), runs);
        double perCase = 0;
        for (String name : organs) {
            OrganCropSpec.OrganGrid g = spec.organ(name);
            OrganCrops.CropGrid grid = crops.grid(g, new double[] {-40, -40, -40}, new double[] {40, 40, 40});
            double[] ms = new double[runs];
            for (int i = -2; i < runs; i++) {
                long t = System.nanoTime();
                float[] out = crops.channels(v, grid);
                if (i >= 0) {
                    ms[i] = (System.nanoTime() - t) / 1e6;
                }
                if (out.length != g.voxels() * spec.channels().size()) {
                    throw new IllegalStateException(name);
                }
            }
            Arrays.sort(ms);
            int n = g.bySide() ? 2 : 1;
            perCase += n * ms[runs / 2];
            System.out.printf("%-12s %s at %s mm: median %.0f ms per crop x %d per case%n", name,
                    Arrays.toString(g.gridSize()), Arrays.toString(g.spacingMm()), ms[runs / 2], n);
        }
        System.out.printf("per case: %.0f ms of crop extraction (sum of medians)%n", perCase);
    }
}
