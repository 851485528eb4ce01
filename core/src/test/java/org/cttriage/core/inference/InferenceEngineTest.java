package org.cttriage.core.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.cttriage.core.domain.FindingResult;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.volume.Volume;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomFinding;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine on the committed reference package (models/ctglip-ref). */
class InferenceEngineTest {
    static final Path PACKAGE = Path.of(System.getProperty("ctglip.package", "../models/ctglip-ref"));
    static InferenceEngine engine;
    static Volume volume;

    @TempDir
    Path dir;

    @BeforeAll
    static void open() throws Exception {
        engine = new InferenceEngine(ModelPackage.load(PACKAGE), EngineOptions.defaults().withDevice(EngineOptions.Device.CPU));
        Phantom p = new PhantomGenerator().generate(new PhantomSpec(424242, 128, 128, 96, 400.0 / 128, 3.75, 3.75,
                ContrastPhase.NONE, Set.of(PhantomFinding.PLEURAL_EFFUSION, PhantomFinding.HEPATOMEGALY), false));
        volume = PhantomVolumes.headFirst(p, 128, 96, 400.0 / 128, 3.75, List.of("1.2.3.4.5"), List.of());
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void scoresEveryDictionaryFinding() throws Exception {
        TriageResult r = engine.analyze(volume);
        assertThat(r.findings()).hasSize(engine.modelPackage().dictionary().findings().size()).hasSize(16);
        for (FindingResult f : r.findings()) {
            assertThat(f.probability()).isBetween(0.0, 1.0);
            assertThat(f.present()).isEqualTo(f.reportable() && f.probability() >= f.threshold());
        }
        Priority expected = r.presentFindings().stream().map(FindingResult::severity).reduce(Priority.ROUTINE, Priority::max);
        assertThat(r.suggestedPriority()).isEqualTo(expected);
        assertThat(r.organVolumesMl()).containsOnlyKeys("lung", "liver", "gallbladder", "kidney", "pancreas", "spleen", "aorta");
        assertThat(r.organVolumesMl().get("liver")).isGreaterThan(100.0);
        assertThat(r.organVolumesMl().get("lung")).isGreaterThan(500.0);
        assertThat(r.model().name()).isEqualTo("ctglip-ref");
        assertThat(r.model().packageSha256()).hasSize(64);
        assertThat(r.timingsMillis()).containsKeys("preprocess", "imageEncoder", "scoring", "total");
        assertThat(r.seriesInstanceUid()).isEqualTo("1.2.3.4");
    }

    @Test
    void concurrentCallsGiveIdenticalResults() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<TriageResult> a = pool.submit(() -> engine.analyze(volume));
            Future<TriageResult> b = pool.submit(() -> engine.analyze(volume));
            assertThat(a.get().findings()).isEqualTo(b.get().findings());
            assertThat(a.get().organVolumesMl()).isEqualTo(b.get().organVolumesMl());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void runtimeFindingInWordsIsScoredAndUnknownWordsReported() throws Exception {
        AbnormalityDictionary.Finding custom = engine.customFinding("big_liver", "liver",
                List.of("enlarged liver", "hepatomegaly"), List.of("normal liver size"), Priority.ROUTINE);
        InferenceEngine.Analysis a = engine.analyzeWithImage(volume, List.of(custom));
        assertThat(a.result().findings()).hasSize(17);
        assertThat(a.result().findings().get(16).id()).isEqualTo("big_liver");
        InferenceEngine.PromptEmbeddings e = engine.embed(List.of("hepatic zebra stripes"));
        assertThat(e.unknownWords()).contains("zebra", "stripes");
        assertThatThrownBy(() -> engine.customFinding("x", "heart", List.of("a"), List.of("b"), Priority.ROUTINE))
                .hasMessageContaining("organ must be one of");
    }

    @Test
    void cudaWithoutProviderFailsAtStartUp() throws Exception {
        ModelPackage pkg = ModelPackage.load(PACKAGE);
        if (OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
            try (InferenceEngine gpu = new InferenceEngine(pkg, EngineOptions.defaults().withDevice(EngineOptions.Device.CUDA))) {
                assertThat(gpu.device()).startsWith("cuda");
            }
        } else {
            assertThatThrownBy(() -> new InferenceEngine(pkg, EngineOptions.defaults().withDevice(EngineOptions.Device.CUDA)))
                    .isInstanceOf(TriageException.class).hasMessageStartingWith("TRIAGE-0404");
            try (InferenceEngine auto = new InferenceEngine(pkg, EngineOptions.defaults())) {
                assertThat(auto.device()).isEqualTo("cpu");
            }
        }
    }

    @Test
    void aSegmentationRefinerGivesTheLabelsAndLeavesTheEmbeddings() throws Exception {
        Path copy = withRefiner(copyPackage(), null);
        InferenceEngine.Analysis plain = engine.analyzeWithImage(volume, List.of());
        InferenceEngine.Analysis refined;
        try (InferenceEngine e = new InferenceEngine(ModelPackage.load(copy),
                EngineOptions.defaults().withDevice(EngineOptions.Device.CPU))) {
            refined = e.analyzeWithImage(volume, List.of());
        }
        assertThat(refined.image().organEmbeddings()).containsExactly(plain.image().organEmbeddings());
        byte[] a = plain.image().organLabels();
        byte[] b = refined.image().organLabels();
        int changed = 0;
        for (int v = 0; v < a.length; v++) {
            changed += a[v] != b[v] ? 1 : 0;
        }
        // the refiner moves organ borders, a few per cent of the grid, and keeps every organ
        assertThat(changed).isPositive().isLessThan(a.length / 10);
        assertThat(refined.result().organVolumesMl()).containsOnlyKeys(plain.result().organVolumesMl().keySet());
        for (String organ : plain.result().organVolumesMl().keySet()) {
            assertThat(refined.result().organVolumesMl().get(organ)).as(organ)
                    .isBetween(0.5 * plain.result().organVolumesMl().get(organ),
                            2.0 * plain.result().organVolumesMl().get(organ));
        }
    }

    @Test
    void aSegmentationRefinerTheManifestMisdescribesIsRefused() throws Exception {
        Path copy = withRefiner(copyPackage(), "refined_labels");
        ModelPackage pkg = ModelPackage.load(copy);
        assertThatThrownBy(() -> new InferenceEngine(pkg, EngineOptions.defaults().withDevice(EngineOptions.Device.CPU)))
                .isInstanceOf(TriageException.class)
                .satisfies(e -> assertThat(((TriageException) e).errorCode()).isEqualTo(ErrorCode.MODEL_SIGNATURE_MISMATCH))
                .hasMessageContaining("segmentation refiner").hasMessageContaining("refined_labels");
        Files.delete(copy.resolve("segmentation_refiner.onnx"));
        assertThatThrownBy(() -> ModelPackage.load(copy)).isInstanceOf(TriageException.class)
                .hasMessageStartingWith("TRIAGE-0401").hasMessageContaining("segmentation_refiner.onnx");
    }

    /**
     * ctglip-ref with ctglip-ref-v2's segmentation refiner (same coarse stage), its manifest entry and
     * SHA-256; {@code outputName} non-null misnames the refiner's output in the manifest.
     */
    private static Path withRefiner(Path copy, String outputName) throws Exception {
        Path v2 = PACKAGE.resolveSibling("ctglip-ref-v2");
        Files.copy(v2.resolve("segmentation_refiner.onnx"), copy.resolve("segmentation_refiner.onnx"));
        ObjectMapper json = new ObjectMapper();
        ObjectNode manifest = (ObjectNode) json.readTree(copy.resolve("manifest.json").toFile());
        ObjectNode refiner = (ObjectNode) json.readTree(v2.resolve("manifest.json").toFile()).path("segmentationRefiner");
        if (outputName != null) {
            ((ObjectNode) refiner.path("outputs").get(0)).put("name", outputName);
        }
        manifest.set("segmentationRefiner", refiner);
        manifest.with("files").put("segmentation_refiner.onnx",
                ModelPackage.sha256(copy.resolve("segmentation_refiner.onnx")));
        json.writeValue(copy.resolve("manifest.json").toFile(), manifest);
        return copy;
    }

    private Path copyPackage() throws Exception {
        Path copy = Files.createDirectories(dir.resolve("pkg"));
        try (Stream<Path> s = Files.list(PACKAGE)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        return copy;
    }

    @Test
    void alteredFileIsRefusedNamingTheFile() throws Exception {
        Path copy = copyPackage();
        Path vocab = copy.resolve("vocabulary.txt");
        Files.writeString(vocab, Files.readString(vocab) + "extra\n");
        assertThatThrownBy(() -> ModelPackage.load(copy)).isInstanceOf(TriageException.class)
                .hasMessageStartingWith("TRIAGE-0402").hasMessageContaining("vocabulary.txt");
    }

    @Test
    void missingFileIsRefused() throws Exception {
        Path copy = copyPackage();
        Files.delete(copy.resolve("text_encoder.onnx"));
        assertThatThrownBy(() -> ModelPackage.load(copy)).isInstanceOf(TriageException.class)
                .hasMessageStartingWith("TRIAGE-0401").hasMessageContaining("text_encoder.onnx");
    }

    @Test
    void manifestThatMisdescribesTheModelIsRefused() throws Exception {
        Path copy = copyPackage();
        ObjectMapper json = new ObjectMapper();
        ObjectNode manifest = (ObjectNode) json.readTree(copy.resolve("manifest.json").toFile());
        ((ObjectNode) manifest.path("imageEncoder").path("outputs").get(1)).put("name", "organ_vectors");
        json.writeValue(copy.resolve("manifest.json").toFile(), manifest);
        ModelPackage pkg = ModelPackage.load(copy);
        try {
            new InferenceEngine(pkg, EngineOptions.defaults().withDevice(EngineOptions.Device.CPU)).close();
            throw new AssertionError("engine opened with a wrong manifest");
        } catch (TriageException e) {
            assertThat(e.errorCode()).isEqualTo(ErrorCode.MODEL_SIGNATURE_MISMATCH);
            assertThat(e.getMessage()).contains("organ_vectors");
        }
    }
}
