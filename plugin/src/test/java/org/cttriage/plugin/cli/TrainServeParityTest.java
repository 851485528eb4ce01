package org.cttriage.plugin.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.cttriage.core.inference.PreprocessingSpec;
import org.cttriage.core.inference.Preprocessor;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.core.volume.StudyVolumeBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No train/serve skew: the training array of a phantom equals, bit for bit, what inference
 * preprocessing computes from the same phantom's DICOM files.
 */
class TrainServeParityTest {
    static final Path SPEC = Path.of("..", "models", "ctglip-ref", "preprocessing.json");

    @TempDir
    Path dir;

    @Test
    void trainingArrayEqualsPreprocessedDicomSeries() throws Exception {
        String[] common = {"--seed", "77", "--matrix", "128", "--slices", "96", "--slice-spacing", "3.75",
            "--findings", "liver_mass,renal_cyst"};
        assertThat(CommandLineTest.run(concat(new String[] {"generate", "--out", dir.resolve("dicom").toString()},
                common)).exitCode()).isZero();
        assertThat(CommandLineTest.run(concat(new String[] {"generate", "--training-arrays", "--preprocessing",
            SPEC.toString(), "--out", dir.resolve("arrays").toString()}, common)).exitCode()).isZero();

        Preprocessor p = new Preprocessor(PreprocessingSpec.fromJson(new ObjectMapper().readTree(SPEC.toFile())));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            StudyVolumeBuilder.Outcome o = new StudyVolumeBuilder(SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool)
                    .build(dir.resolve("dicom").resolve("dicom"));
            float[] served = p.preprocess(((StudyVolumeBuilder.Built) o).volume());
            float[] trained = readFloat32(dir.resolve("arrays").resolve("case-00000").resolve("input.npy"));
            assertThat(served).hasSize(p.spec().channels().size() * p.spec().voxels());
            // Arrays.mismatch, not containsExactly: AssertJ's diff of a million floats takes hours.
            int first = java.util.Arrays.mismatch(trained, served);
            assertThat(first).as("first differing element: %s", first < 0 ? "none"
                    : "index " + first + ", trained " + trained[first] + ", served " + served[first]).isEqualTo(-1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theCommittedPackageWasTrainedOnThisPreprocessing() throws Exception {
        ObjectMapper json = new ObjectMapper();
        assertThat(json.readTree(SPEC.getParent().resolve("manifest.json").toFile()).path("preprocessing"))
                .as("manifest.json preprocessing = preprocessing.json (retrain after changing either)")
                .isEqualTo(json.readTree(SPEC.toFile()));
    }

    static float[] readFloat32(Path npy) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(npy)).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = Short.toUnsignedInt(b.getShort(8));
        String header = new String(Files.readAllBytes(npy), 10, headerLength, java.nio.charset.StandardCharsets.US_ASCII);
        assertThat(header).contains("'descr': '<f4'");
        b.position(10 + headerLength);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
