import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Checks the crop encoders of export_crops.py with ONNX Runtime (Java, the engine's runtime; python's
 * onnxruntime is not installed on the development machine) against PyTorch's outputs for one
 * validation crop per organ, and measures the load time and the CPU inference time per crop and per
 * case (the paired kidneys count twice). An experiment, not part of the product.
 *
 * <p>Usage (single-file source launch; onnxruntime and jackson from the local Maven repository):
 * {@code java -cp ONNXRUNTIME.jar:JACKSON-DATABIND.jar:JACKSON-CORE.jar:JACKSON-ANNOTATIONS.jar
 * CropEncoderBench.java EXPORT_DIR [threads] [runs]}
 */
public final class CropEncoderBench {
    private CropEncoderBench() {
    }

    private static float[] read(Path p) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    private static long[] shape(JsonNode n) {
        long[] s = new long[n.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = n.get(i).asLong();
        }
        return s;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        JsonNode meta = new ObjectMapper().readTree(dir.resolve("export.json").toFile());
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        opts.setIntraOpNumThreads(threads);
        opts.setInterOpNumThreads(1);
        opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        System.out.printf("ONNX Runtime %s, %d intra-op threads, %d timed runs per organ after 2 warm-up runs%n",
                env.getVersion(), threads, runs);
        double perCase = 0;
        double loadAll = 0;
        double worst = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = meta.path("organs").properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String organ = e.getKey();
            JsonNode o = e.getValue();
            long t0 = System.nanoTime();
            try (OrtSession s = env.createSession(dir.resolve(o.path("onnx").asText()).toString(), opts)) {
                double loadMs = (System.nanoTime() - t0) / 1e6;
                loadAll += loadMs;
                Map<String, OnnxTensor> in = new HashMap<>();
                for (String name : new String[] {"crop", "organ_mask", "box_extent"}) {
                    JsonNode t = o.path("tensors").path(name);
                    in.put(name, OnnxTensor.createTensor(env, FloatBuffer.wrap(read(dir.resolve(t.path("file").asText()))),
                            shape(t.path("shape"))));
                }
                double maxDiff = 0;
                try (OrtSession.Result r = s.run(in)) {
                    for (String name : new String[] {"organ_embedding", "finding_max", "finding_logits"}) {
                        float[] want = read(dir.resolve(o.path("tensors").path(name).path("file").asText()));
                        FloatBuffer got = ((OnnxTensor) r.get(name).orElseThrow()).getFloatBuffer();
                        if (got.remaining() != want.length) {
                            throw new IllegalStateException(organ + " " + name + ": " + got.remaining() + " values, PyTorch "
                                    + want.length);
                        }
                        for (float w : want) {
                            maxDiff = Math.max(maxDiff, Math.abs(got.get() - w));
                        }
                    }
                }
                worst = Math.max(worst, maxDiff);
                for (int i = 0; i < 2; i++) {
                    s.run(in).close();
                }
                double[] ms = new double[runs];
                for (int i = 0; i < runs; i++) {
                    long t = System.nanoTime();
                    s.run(in).close();
                    ms[i] = (System.nanoTime() - t) / 1e6;
                }
                Arrays.sort(ms);
                double median = ms[runs / 2];
                int crops = organ.equals("kidney") || organ.equals("lung") ? 2 : 1;
                perCase += crops * median;
                System.out.printf("%-12s grid %s: load %.0f ms, median %.1f ms per crop (min %.1f, max %.1f) x %d per case; "
                        + "max |ORT - PyTorch| %.2e%n", organ, o.path("gridSize"), loadMs, median, ms[0], ms[runs - 1], crops,
                        maxDiff);
                in.values().forEach(OnnxTensor::close);
            }
        }
        System.out.printf("per case: %.0f ms of crop-encoder inference (sum of medians), sessions load %.0f ms; "
                + "largest |ORT - PyTorch| %.2e%n", perCase, loadAll, worst);
    }
}
