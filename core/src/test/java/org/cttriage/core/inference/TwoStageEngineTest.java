package org.cttriage.core.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.cttriage.core.domain.FindingLocation;
import org.cttriage.core.domain.FindingResult;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.volume.SliceSource;
import org.cttriage.core.volume.Volume;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.FindingTruth;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomFinding;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine on the committed two-stage package (models/ctglip-ref-v2, issue 12): the organ crops
 * are cut where the coarse stage segmented each organ, the crop findings are scored on them, and a
 * finding called present is located by the model's own finding map.
 */
class TwoStageEngineTest {
    static final Path PACKAGE = Path.of("..", "models", "ctglip-ref-v2");
    static final ObjectMapper JSON = new ObjectMapper();
    static InferenceEngine engine;
    static Phantom phantom;
    static Volume volume;

    @TempDir
    Path dir;

    @BeforeAll
    static void open() throws Exception {
        engine = new InferenceEngine(ModelPackage.load(PACKAGE), EngineOptions.defaults().withDevice(EngineOptions.Device.CPU));
        // 1.56 mm pixels, 2.5 mm slices: finer than the coarse grid, coarser than the crops.
        int n = 256;
        int slices = 144;
        phantom = new PhantomGenerator().generate(new PhantomSpec(424243, n, n, slices, 400.0 / n, 2.5, 2.5,
                ContrastPhase.NONE, Set.of(PhantomFinding.CHOLELITHIASIS, PhantomFinding.HEPATIC_STEATOSIS), false));
        List<String> instances = Stream.iterate(0, i -> i + 1).limit(slices).map(i -> "1.2.3.4." + (i + 1)).toList();
        List<SliceSource> received = instances.stream().map(uid -> new SliceSource("1.2.840.10008.5.1.4.1.1.2", uid, 0))
                .toList();
        volume = PhantomVolumes.headFirst(phantom, n, slices, 400.0 / n, 2.5, instances, received);
    }

    @AfterAll
    static void close() {
        if (engine != null) {
            engine.close();
        }
    }

    /** Every organ has an encoder in this package (the spleen's since the refiner's boxes: model card). */
    @Test
    void cropsEveryOrganWithAnEncoderWhereTheFirstStageFoundIt() throws Exception {
        InferenceEngine.Analysis a = engine.analyzeWithImage(volume, List.of());
        assertThat(a.crops()).extracting(CropStage.OrganCrop::organ)
                .containsExactly("lung", "lung", "liver", "gallbladder", "kidney", "kidney", "pancreas", "spleen", "aorta");
        for (String paired : List.of("lung", "kidney")) {
            assertThat(a.crops().stream().filter(c -> c.organ().equals(paired)).map(CropStage.OrganCrop::side))
                    .as(paired).containsExactly(OrganSegmentation.Side.RIGHT, OrganSegmentation.Side.LEFT);
        }
        for (CropStage.OrganCrop c : a.crops()) {
            assertThat(c.embedding()).hasSize(64);
            int[] g = c.grid().organ().gridSize();
            assertThat(c.headSize()).containsExactly(g[0] / 2, g[1] / 2, g[2] / 2);
        }
        // the crops hold the organs the first stage segmented (both kidneys' crops together: the kidneys)
        for (String organ : List.of("lung", "liver", "gallbladder", "kidney", "pancreas", "spleen", "aorta")) {
            int label = engine.modelPackage().dictionary().organs().get(organ).label();
            List<CropStage.OrganCrop> crops = a.crops().stream().filter(c -> c.organ().equals(organ)).toList();
            assertThat(fractionInside(a.segmentation(), label, crops)).as(organ).isGreaterThan(0.9);
        }
        assertThat(a.result().timingsMillis()).containsKeys("preprocess", "imageEncoder", "organCrops", "scoring", "total");
    }

    @Test
    void aGallstoneIsCalledAndLocatedByTheModelNotTheOrganCentre() throws Exception {
        InferenceEngine.Analysis a = engine.analyzeWithImage(volume, List.of());
        FindingResult stone = a.result().findings().stream().filter(f -> f.id().equals("cholelithiasis")).findFirst()
                .orElseThrow();
        assertThat(stone.reportable()).isTrue();
        assertThat(stone.present()).as("p=%s threshold %s", stone.probability(), stone.threshold()).isTrue();
        FindingLocation l = stone.location();
        assertThat(l.method()).isEqualTo(FindingLocation.MODEL);
        FindingTruth truth = phantom.truth().stream().filter(t -> t.finding() == PhantomFinding.CHOLELITHIASIS)
                .findFirst().orElseThrow();
        double[] c = truth.centreLpsMm();
        double d = Math.sqrt(Math.pow(l.pointLps().get(0) - c[0], 2) + Math.pow(l.pointLps().get(1) - c[1], 2)
                + Math.pow(l.pointLps().get(2) - c[2], 2));
        assertThat(d).as("model location %s vs true centre %s", l.pointLps(), java.util.Arrays.toString(c))
                .isLessThan(truth.sizeMm() / 2 + 10);
        // and the slice is the received one nearest to that point
        int k = (int) Math.round(volume.geometry().indexOf(new double[] {l.pointLps().get(0), l.pointLps().get(1),
            l.pointLps().get(2)})[2]);
        assertThat(l.sopInstanceUid()).isEqualTo(volume.sourceInstances().get(k));
    }

    @Test
    void heldOutPromptsOfACropFindingAreScoredOnTheCrops() throws Exception {
        InferenceEngine.Analysis a = engine.analyzeWithImage(volume, List.of());
        AbnormalityDictionary.Finding f = engine.modelPackage().dictionary().findings().stream()
                .filter(x -> x.id().equals("cholelithiasis")).findFirst().orElseThrow();
        InferenceEngine.Score s = engine.score(a, f, f.heldOutPositive(), f.heldOutNegative());
        assertThat(s.crop()).isNotNull();
        assertThat(s.crop().organ()).isEqualTo("gallbladder");
        AbnormalityDictionary.Finding aneurysm = finding("aortic_aneurysm");
        assertThat(engine.score(a, aneurysm, aneurysm.positive(), aneurysm.negative()).crop())
                .as("aneurysms stay with the coarse stage (model card)").isNull();
    }

    /**
     * A finding the package scores by the crops' finding head (manifest organCrops.headFindings, chosen by
     * calibration) gets the largest logit of its map over its organ's crops, whatever the prompts, and is
     * located where that logit is.
     */
    @Test
    void aHeadFindingIsScoredByItsLogitMapWhateverThePrompts() throws Exception {
        InferenceEngine.Analysis a = engine.analyzeWithImage(volume, List.of());
        AbnormalityDictionary.Finding f = finding("consolidation");
        int channel = engine.modelPackage().manifest().path("organCrops").path("findingChannels").path(f.id()).asInt();
        assertThat(engine.modelPackage().manifest().path("organCrops").path("headFindings").toString())
                .contains("\"consolidation\"");
        InferenceEngine.Score s = engine.score(a, f, f.positive(), f.negative());
        double peak = a.crops().stream().filter(c -> c.organ().equals("lung")).mapToDouble(c -> c.peak(channel)).max()
                .orElseThrow();
        assertThat(s.margin()).isEqualTo(peak);
        assertThat(s.crop().organ()).isEqualTo("lung");
        assertThat(s.crop().peak(channel)).isEqualTo(peak);
        assertThat(engine.score(a, f, List.of("anything at all"), List.of("something else")).margin()).isEqualTo(peak);
        assertThat(engine.score(a, f, f.heldOutPositive(), f.heldOutNegative()).margin()).isEqualTo(peak);
        FindingResult r = a.result().findings().stream().filter(x -> x.id().equals(f.id())).findFirst().orElseThrow();
        assertThat(r.probability()).isCloseTo(s.probability(f), org.assertj.core.data.Offset.offset(1e-6));
        assertThat(r.present()).as("no consolidation in this phantom").isFalse();
        // located at the strongest voxel of that map, as a called finding would be
        FindingLocation l = engine.locate(volume, a, s, f);
        double[] p = s.crop().strongest(channel);
        assertThat(l.method()).isEqualTo(FindingLocation.MODEL);
        assertThat(l.pointLps()).containsExactly(p[0], p[1], p[2]);
        // the peak is the map's maximum, inside the organ mask or not; finding_max is inside it
        assertThat(s.crop().findingMax()[channel]).isLessThanOrEqualTo((float) peak);
    }

    @Test
    void refusesAHeadFindingTheCropsDoNotScore() throws Exception {
        assertRefusesACropFindingList("headFindings", "hepatomegaly");
    }

    @Test
    void refusesADensestVoxelFindingTheCropsDoNotScore() throws Exception {
        assertRefusesACropFindingList("densestVoxelFindings", "aortic_aneurysm");
    }

    /** A package whose manifest organCrops.{@code key} names a coarse finding does not open. */
    private void assertRefusesACropFindingList(String key, String coarseFinding) throws Exception {
        assertRefusesACropFindingList(key, coarseFinding, ErrorCode.MODEL_PACKAGE_INVALID, key + " names " + coarseFinding);
    }

    private void assertRefusesACropFindingList(String key, String finding, ErrorCode code, String message)
            throws Exception {
        Path copy = copyPackage();
        ObjectNode manifest = (ObjectNode) JSON.readTree(copy.resolve("manifest.json").toFile());
        manifest.with("organCrops").withArray(key).add(finding);
        JSON.writeValue(copy.resolve("manifest.json").toFile(), manifest);
        assertRefusal(copy, code, message);
    }

    @Test
    void refusesADetectorFindingNoLesionDetectorScores() throws Exception {
        assertRefusesACropFindingList("detectorFindings", "hepatic_steatosis", ErrorCode.MODEL_PACKAGE_INVALID,
                "detectorFindings names hepatic_steatosis, which no lesion detector");
    }

    @Test
    void refusesALesionDetectorForAFindingOfAnotherOrgan() throws Exception {
        Path copy = copyPackage();
        String organ = editFirstDetector(copy, d -> d.putArray("findings").add("liver_cyst"));
        assertRefusal(copy, ErrorCode.MODEL_PACKAGE_INVALID, organ + "'s detector names liver_cyst, which is not a crop"
                + " finding of " + organ);
    }

    @Test
    void refusesALesionDetectorWhoseWindowIsNotItsOnnxs() throws Exception {
        Path copy = copyPackage();
        // a window the ONNX does not take (the shipped detector takes a fixed window or, whole-crop, any size)
        String organ = editFirstDetector(copy,
                d -> d.put("wholeCrop", false).put("windowVoxels", 32).put("strideVoxels", 24));
        assertRefusal(copy, ErrorCode.MODEL_SIGNATURE_MISMATCH, "lesion detector " + organ + " takes [-1, 2, ");
        assertRefusal(copy, ErrorCode.MODEL_SIGNATURE_MISMATCH, "the manifest gives 2 channels, a window of 32");
    }

    @Test
    void refusesAWholeCropLesionDetectorWithoutAnEvenPad() throws Exception {
        Path copy = copyPackage();
        String organ = editFirstDetector(copy, d -> d.put("wholeCrop", true).put("padToVoxels", 3));
        assertRefusal(copy, ErrorCode.MODEL_PACKAGE_INVALID, organ + "'s detector needs an even windowVoxels and an even"
                + " strideVoxels up to the window, or wholeCrop with an even padToVoxels");
    }

    @Test
    void aLesionDetectorsOwnChannelsReplaceTheStagesAndAreChecked() throws Exception {
        Path copy = copyPackage();
        // its own list is the one checked against its ONNX: three channels to a network that takes two
        String organ = editFirstDetector(copy, d -> {
            var channels = d.putArray("channels");
            for (String name : new String[] {"organ_contrast", "soft_tissue", "wide"}) {
                channels.addObject().put("name", name).put("centreHu", 40.0).put("scaleHu", 300.0).put("clip", 3.0);
            }
        });
        assertRefusal(copy, ErrorCode.MODEL_SIGNATURE_MISMATCH, "the manifest gives 3 channels");
        editFirstDetector(copy, d -> d.putArray("channels").addObject().put("name", "lung_contrast")
                .put("centreHu", "organMean").put("scaleHu", 300.0).put("clip", 3.0));
        assertRefusal(copy, ErrorCode.MODEL_PACKAGE_INVALID, organ + "'s detector: channel lung_contrast needs centreHu"
                + " (a number or \"organMedian\"), scaleHu > 0 and clip > 0");
        editFirstDetector(copy, d -> d.putArray("channels"));
        assertRefusal(copy, ErrorCode.MODEL_PACKAGE_INVALID, organ + "'s detector: no channels");
    }

    /** Gives the copy's manifest one dot filter (organCrops.dotFilters), valid but for {@code edit}. */
    private static void dotFilter(Path copy, String organ, String finding,
                                  java.util.function.Consumer<ObjectNode> edit) throws Exception {
        ObjectNode manifest = (ObjectNode) JSON.readTree(copy.resolve("manifest.json").toFile());
        ObjectNode d = manifest.with("organCrops").putObject("dotFilters").putObject(organ);
        d.putArray("findings").add(finding);
        d.putArray("gridSize").add(64).add(64).add(64);
        d.putArray("spacingMm").add(1.5).add(1.5).add(1.5);
        d.putArray("sigmasMm").add(1.5).add(2.5);
        d.putArray("clipHu").add(-1000).add(-400);
        d.put("floorHu", -750).put("regionDilateVoxels", 2).put("referenceDot", 60);
        edit.accept(d);
        JSON.writeValue(copy.resolve("manifest.json").toFile(), manifest);
    }

    /** A dot filter (DotFilters) must run on an organ with a crop, for that organ's findings, with sane parameters. */
    @Test
    void refusesADotFilterThatCannotRun() throws Exception {
        Path copy = copyPackage();
        dotFilter(copy, "heart", "liver_cyst", d -> { });
        assertRefusal(copy, ErrorCode.MODEL_PACKAGE_INVALID, "organCrops.dotFilters: heart has a dot filter but no crop"
                + " encoder");
        dotFilter(copy, "spleen", "liver_cyst", d -> { });
        assertRefusal(copy, ErrorCode.MODEL_PACKAGE_INVALID, "spleen's dot filter names liver_cyst, which is not a crop"
                + " finding of spleen");
        dotFilter(copy, "liver", "liver_cyst", d -> d.putArray("sigmasMm").add(0));
        assertRefusal(copy, ErrorCode.MODEL_PACKAGE_INVALID, "liver's dot filter needs findings, sigmasMm above 0");
        dotFilter(copy, "liver", "liver_cyst", d -> d.putArray("clipHu").add(-400).add(-1000));
        assertRefusal(copy, ErrorCode.MODEL_PACKAGE_INVALID, "clipHu [low, high]");
        dotFilter(copy, "liver", "liver_cyst", d -> d.putArray("spacingMm").add(1.5).add(1.5).add(3));
        assertRefusal(copy, ErrorCode.MODEL_PACKAGE_INVALID, "liver's dot filter: spacingMm must be isotropic");
        dotFilter(copy, "liver", "liver_cyst", d -> d.putArray("gridSize").add(64).add(64));
        assertRefusal(copy, ErrorCode.MODEL_PACKAGE_INVALID, "liver's dot filter: gridSize needs 3 values");
        // a second look (run Q): sane parameters, and a network that takes the manifest's patches
        dotFilter(copy, "liver", "liver_cyst", d -> secondLook(d, "crop_encoder_liver.onnx", 16).put("patchVoxels", 15));
        assertRefusal(copy, ErrorCode.MODEL_PACKAGE_INVALID, "liver's second look needs candidates >= 1, an odd"
                + " peakWindowVoxels, an even patchVoxels");
        dotFilter(copy, "liver", "liver_cyst", d -> secondLook(d, "crop_encoder_liver.onnx", 16));
        assertRefusal(copy, ErrorCode.MODEL_SIGNATURE_MISMATCH, "liver's second look input");
        // patches cut finer than the filter's crop: by a whole factor
        dotFilter(copy, "lung", "pulmonary_nodule", d -> secondLook(d, "second_look_lung.onnx", 16)
                .put("patchSpacingMm", 1.0));
        assertRefusal(copy, ErrorCode.MODEL_PACKAGE_INVALID, "lung's second look: patchSpacingMm 1.0 must divide the"
                + " filter's spacing 1.5 a whole number of times");
    }

    /**
     * The same nodule as {@link #aLungNoduleIsScoredAndLocatedByTheDotFilter}, with the package's filter moved to the
     * lung encoder's own 3 mm crop (shared, not made again) and the second look's patches cut from the volume at
     * 1.5 mm around its candidates (DotFilters.finePatches): the nodule is still scored by the second look and
     * located on it. Whether that design ranks nodules as well: docs/benchmarks.md (2026-12-07).
     */
    @Test
    void aFilterOnTheEncodersCropCutsTheSecondLooksPatchesFromTheVolume() throws Exception {
        Path copy = copyPackage();
        ObjectNode manifest = (ObjectNode) JSON.readTree(copy.resolve("manifest.json").toFile());
        ObjectNode lung = manifest.with("organCrops").with("dotFilters").with("lung");
        lung.putArray("gridSize").add(56).add(64).add(96);
        lung.putArray("spacingMm").add(3.0).add(3.0).add(3.0);
        lung.put("regionDilateVoxels", 1);
        lung.with("secondLook").put("peakWindowVoxels", 3).put("patchSpacingMm", 1.5).put("refineVoxels", 2)
                .putArray("refineSigmasMm").add(1.5).add(2.5).add(4.0).add(6.0);
        JSON.writeValue(copy.resolve("manifest.json").toFile(), manifest);
        try (InferenceEngine coarse = new InferenceEngine(ModelPackage.load(copy), EngineOptions.defaults()
                .withDevice(EngineOptions.Device.CPU))) {
            Phantom p = portalVenous(424291, PhantomFinding.PULMONARY_NODULE);
            Volume v = scan(p, "1.2.3.8.");
            InferenceEngine.Analysis a = coarse.analyzeWithImage(v, List.of());
            AbnormalityDictionary.Finding f = finding("pulmonary_nodule");
            InferenceEngine.Score s = coarse.score(a, f, f.positive(), f.negative());
            assertThat(s.crop().side()).isEqualTo(OrganSegmentation.Side.RIGHT);
            LesionDetectors.Lesion lesion = s.crop().lesions().get("pulmonary_nodule");
            assertThat(s.margin()).isEqualTo(lesion.logit());
            assertThat(lesion.probability()).as("the second look's call on the nodule").isGreaterThan(0.5);
            FindingLocation l = coarse.locate(v, a, s, f);
            assertThat(toSurface(l, p, PhantomFinding.PULMONARY_NODULE))
                    .as("distance from the point to the nodule's surface, mm").isLessThan(10);
        }
    }

    /** A second look entry of a dot filter: {@code file}, its declared patch of {@code p} voxels, valid parameters. */
    private static ObjectNode secondLook(ObjectNode filter, String file, int p) {
        ObjectNode s = filter.putObject("secondLook");
        s.put("file", file).put("candidates", 32).put("peakWindowVoxels", 5).put("patchVoxels", p);
        s.putArray("clipHu").add(-1000).add(200);
        ObjectNode in = s.putArray("inputs").addObject().put("name", "patch").put("dtype", "float32");
        in.putArray("shape").add(-1).add(1).add(p).add(p).add(p);
        s.putArray("outputs").addObject().put("name", "logit").put("dtype", "float32").putArray("shape").add(-1);
        return s;
    }

    /** Edits the first lesion detector of the copy's manifest; gives its organ. */
    private static String editFirstDetector(Path copy, java.util.function.Consumer<ObjectNode> edit) throws Exception {
        ObjectNode manifest = (ObjectNode) JSON.readTree(copy.resolve("manifest.json").toFile());
        var detectors = manifest.with("organCrops").with("lesionDetectors").with("detectors");
        String organ = detectors.fieldNames().next();
        edit.accept((ObjectNode) detectors.get(organ));
        JSON.writeValue(copy.resolve("manifest.json").toFile(), manifest);
        return organ;
    }

    @Test
    void refusesAPackageWithoutItsLesionDetectorsFile() throws Exception {
        Path copy = copyPackage();
        ObjectNode manifest = (ObjectNode) JSON.readTree(copy.resolve("manifest.json").toFile());
        var detectors = manifest.with("organCrops").with("lesionDetectors").with("detectors");
        String file = detectors.get(detectors.fieldNames().next()).path("file").asText();
        manifest.with("files").remove(file);
        JSON.writeValue(copy.resolve("manifest.json").toFile(), manifest);
        assertThatThrownBy(() -> ModelPackage.load(copy))
                .isInstanceOf(TriageException.class)
                .satisfies(e -> assertThat(((TriageException) e).errorCode()).isEqualTo(ErrorCode.MODEL_PACKAGE_INVALID))
                .hasMessageContaining("does not list " + file);
    }

    private static void assertRefusal(Path copy, ErrorCode code, String message) {
        assertThatThrownBy(() -> new InferenceEngine(ModelPackage.load(copy), EngineOptions.defaults()
                .withDevice(EngineOptions.Device.CPU)))
                .isInstanceOf(TriageException.class)
                .satisfies(e -> assertThat(((TriageException) e).errorCode()).isEqualTo(code))
                .hasMessageContaining(message);
    }

    /**
     * A kidney stone (manifest organCrops.densestVoxelFindings) is located by the calcified-lesion rule on
     * the kidney crop that scored it ({@link CropStage#densest}), here on the stone (a 7 mm stone in a
     * 256 x 256 scan of 2.5 mm slices; the stone is not called present at this resolution, and the point is
     * the one evaluate measures on every positive case). How often: models/ctglip-ref-v2/MODEL_CARD.md.
     */
    @Test
    void aKidneyStoneIsLocatedOnTheStone() throws Exception {
        assertThat(engine.modelPackage().manifest().path("organCrops").path("densestVoxelFindings").toString())
                .isEqualTo("[\"nephrolithiasis\"]");
        Phantom p = portalVenous(424257, PhantomFinding.NEPHROLITHIASIS);
        Volume v = scan(p, "1.2.3.5.");
        InferenceEngine.Analysis a = engine.analyzeWithImage(v, List.of());
        AbnormalityDictionary.Finding f = finding("nephrolithiasis");
        InferenceEngine.Score s = engine.score(a, f, f.positive(), f.negative());
        assertThat(s.crop().organ()).isEqualTo("kidney");
        FindingLocation l = engine.locate(v, a, s, f);
        assertThat(l.method()).isEqualTo(FindingLocation.MODEL);
        assertThat(l.pointLps()).containsExactly(s.crop().densestLps()[0], s.crop().densestLps()[1],
                s.crop().densestLps()[2]);
        assertThat(toSurface(l, p, PhantomFinding.NEPHROLITHIASIS))
                .as("distance from the point to the nearest stone's surface, mm").isLessThan(10);
    }

    /**
     * A pancreatic mass (manifest organCrops.detectorFindings) is scored by the pancreas's lesion detector, the
     * logit of its peak probability on the pancreas crop, whatever the prompts, and located at that peak, on the
     * mass. How often over 200 unseen phantoms: models/ctglip-ref-v2/MODEL_CARD.md.
     */
    @Test
    void aPancreaticMassIsScoredAndLocatedByTheLesionDetector() throws Exception {
        assertThat(engine.modelPackage().manifest().path("organCrops").path("detectorFindings").toString())
                .contains("\"pancreatic_mass\"");
        Phantom p = portalVenous(424270, PhantomFinding.PANCREATIC_MASS);
        Volume v = scan(p, "1.2.3.6.");
        InferenceEngine.Analysis a = engine.analyzeWithImage(v, List.of());
        AbnormalityDictionary.Finding f = finding("pancreatic_mass");
        InferenceEngine.Score s = engine.score(a, f, f.positive(), f.negative());
        assertThat(s.crop().organ()).isEqualTo("pancreas");
        LesionDetectors.Lesion lesion = s.crop().lesions().get("pancreatic_mass");
        assertThat(s.margin()).isEqualTo(lesion.logit());
        assertThat(engine.score(a, f, List.of("normal pancreas"), List.of("pancreatic mass")).margin())
                .as("the detector's score does not depend on the prompts").isEqualTo(s.margin());
        assertThat(engine.detector(a, f)).hasValue(lesion.logit());
        FindingLocation l = engine.locate(v, a, s, f);
        assertThat(l.method()).isEqualTo(FindingLocation.MODEL);
        assertThat(l.pointLps()).containsExactly(lesion.pointLps()[0], lesion.pointLps()[1], lesion.pointLps()[2]);
        assertThat(p.truth().stream().filter(t -> t.finding() == PhantomFinding.PANCREATIC_MASS)).hasSize(1);
        assertThat(toSurface(l, p, PhantomFinding.PANCREATIC_MASS))
                .as("distance from the point to the mass's surface, mm").isLessThan(10);
        FindingResult called = a.result().findings().stream().filter(r -> r.id().equals("pancreatic_mass"))
                .findFirst().orElseThrow();
        assertThat(called.probability()).isEqualTo(s.probability(f));
    }

    /**
     * A lung nodule (manifest organCrops.dotFilters, chosen for it by the calibration) is scored by the lung's
     * Hessian dot filter ({@link DotFilters}) on its own 1.5 mm crop of the lung's box and its second look (a CNN on
     * the patches around the filter's candidates), whatever the prompts, and located at the candidate the second
     * look scores highest, on the nodule (an 8.1 mm solid nodule of the right lower lobe in a 256 x 256 scan of
     * 2.5 mm slices). How often over 200 unseen phantoms: models/ctglip-ref-v2/MODEL_CARD.md.
     */
    @Test
    void aLungNoduleIsScoredAndLocatedByTheDotFilter() throws Exception {
        assertThat(engine.modelPackage().manifest().path("organCrops").path("detectorFindings").toString())
                .contains("\"pulmonary_nodule\"");
        assertThat(engine.modelPackage().manifest().path("organCrops").path("dotFilters").path("lung")
                .has("secondLook")).isTrue();
        Phantom p = portalVenous(424291, PhantomFinding.PULMONARY_NODULE);
        assertThat(p.truth().stream().filter(t -> t.finding() == PhantomFinding.PULMONARY_NODULE)
                .map(FindingTruth::description)).containsExactly("8.1 mm solid nodule, right lower lobe");
        Volume v = scan(p, "1.2.3.7.");
        InferenceEngine.Analysis a = engine.analyzeWithImage(v, List.of());
        AbnormalityDictionary.Finding f = finding("pulmonary_nodule");
        InferenceEngine.Score s = engine.score(a, f, f.positive(), f.negative());
        assertThat(s.crop().organ()).isEqualTo("lung");
        assertThat(s.crop().side()).isEqualTo(OrganSegmentation.Side.RIGHT);
        LesionDetectors.Lesion lesion = s.crop().lesions().get("pulmonary_nodule");
        assertThat(s.margin()).isEqualTo(lesion.logit());
        assertThat(engine.score(a, f, List.of("clear lungs"), List.of("lung nodule")).margin())
                .as("the filter's score does not depend on the prompts").isEqualTo(s.margin());
        assertThat(engine.detector(a, f)).hasValue(lesion.logit());
        FindingLocation l = engine.locate(v, a, s, f);
        assertThat(l.method()).isEqualTo(FindingLocation.MODEL);
        assertThat(l.pointLps()).containsExactly(lesion.pointLps()[0], lesion.pointLps()[1], lesion.pointLps()[2]);
        assertThat(toSurface(l, p, PhantomFinding.PULMONARY_NODULE))
                .as("distance from the point to the nodule's surface, mm").isLessThan(10);
        assertThat(a.result().findings().stream().filter(r -> r.id().equals("pulmonary_nodule")).findFirst()
                .orElseThrow().probability()).isEqualTo(s.probability(f));
    }

    /** Distance (mm) from the located point to the surface of the nearest lesion of {@code finding} in the phantom. */
    private static double toSurface(FindingLocation l, Phantom p, PhantomFinding finding) {
        double nearest = Double.MAX_VALUE;
        for (FindingTruth t : p.truth()) {
            if (t.finding() == finding) {
                double[] c = t.centreLpsMm();
                nearest = Math.min(nearest, Math.sqrt(Math.pow(l.pointLps().get(0) - c[0], 2)
                        + Math.pow(l.pointLps().get(1) - c[1], 2) + Math.pow(l.pointLps().get(2) - c[2], 2))
                        - t.sizeMm() / 2);
            }
        }
        return nearest;
    }

    /** A 256 x 256 phantom of 144 slices of 2.5 mm, portal venous, with {@code finding} forced. */
    private static Phantom portalVenous(long seed, PhantomFinding finding) {
        return new PhantomGenerator().generate(new PhantomSpec(seed, 256, 256, 144, 400.0 / 256, 2.5, 2.5,
                ContrastPhase.PORTAL_VENOUS, Set.of(finding), false));
    }

    /** {@link #portalVenous}'s phantom as a received volume, its slices' SOP Instance UIDs {@code uidRoot}1, 2, ... */
    private static Volume scan(Phantom p, String uidRoot) {
        List<String> instances = Stream.iterate(0, i -> i + 1).limit(144).map(i -> uidRoot + (i + 1)).toList();
        return PhantomVolumes.headFirst(p, 256, 144, 400.0 / 256, 2.5, instances, instances.stream()
                .map(uid -> new SliceSource("1.2.840.10008.5.1.4.1.1.2", uid, 0)).toList());
    }

    private static AbnormalityDictionary.Finding finding(String id) {
        return engine.modelPackage().dictionary().findings().stream().filter(x -> x.id().equals(id)).findFirst()
                .orElseThrow();
    }

    @Test
    void refusesACropEncoderWhoseGridIsNotTheSpecs() throws Exception {
        Path copy = copyPackage();
        ObjectNode spec = (ObjectNode) JSON.readTree(copy.resolve("organ-crops.json").toFile());
        for (var o : spec.withArray("organs")) {
            if (o.path("name").asText().equals("gallbladder")) {
                ((com.fasterxml.jackson.databind.node.ArrayNode) o.get("gridSize")).set(0, 42);
            }
        }
        JSON.writeValue(copy.resolve("organ-crops.json").toFile(), spec);
        resign(copy);
        assertThatThrownBy(() -> new InferenceEngine(ModelPackage.load(copy), EngineOptions.defaults()
                .withDevice(EngineOptions.Device.CPU)))
                .isInstanceOf(TriageException.class)
                .satisfies(e -> assertThat(((TriageException) e).errorCode()).isEqualTo(ErrorCode.MODEL_SIGNATURE_MISMATCH))
                .hasMessageContaining("crop encoder gallbladder");
    }

    @Test
    void refusesACropFindingTheDictionaryDoesNotHave() throws Exception {
        Path copy = copyPackage();
        ObjectNode manifest = (ObjectNode) JSON.readTree(copy.resolve("manifest.json").toFile());
        ((ObjectNode) manifest.with("organCrops").with("findingChannels")).put("no_such_finding", 3);
        JSON.writeValue(copy.resolve("manifest.json").toFile(), manifest);
        assertThatThrownBy(() -> ModelPackage.load(copy))
                .isInstanceOf(TriageException.class)
                .satisfies(e -> assertThat(((TriageException) e).errorCode()).isEqualTo(ErrorCode.MODEL_PACKAGE_INVALID))
                .hasMessageContaining("no_such_finding");
    }

    private Path copyPackage() throws Exception {
        Path copy = dir.resolve("pkg");
        Files.createDirectories(copy);
        try (Stream<Path> s = Files.list(PACKAGE)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                Files.copy(p, copy.resolve(p.getFileName()));
            }
        }
        return copy;
    }

    /** Rewrites manifest.json's SHA-256s after a file of the copy was changed on purpose. */
    private static void resign(Path copy) throws Exception {
        ObjectNode manifest = (ObjectNode) JSON.readTree(copy.resolve("manifest.json").toFile());
        ObjectNode files = manifest.with("files");
        for (var it = files.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            files.put(f, ModelPackage.sha256(copy.resolve(f)));
        }
        JSON.writeValue(copy.resolve("manifest.json").toFile(), manifest);
    }

    /** Fraction of the segmentation's voxels of {@code label} whose centre lies inside one of the crops. */
    private static double fractionInside(OrganSegmentation s, int label, List<CropStage.OrganCrop> crops) {
        int[] g = s.gridSize();
        int all = 0;
        int inside = 0;
        for (int v = 0; v < s.labels().length; v++) {
            if (s.labels()[v] != label) {
                continue;
            }
            all++;
            double[] q = s.positionOf(v % g[0], (v / g[0]) % g[1], v / (g[0] * g[1]));
            for (CropStage.OrganCrop c : crops) {
                double[] lo = c.grid().positionOf(-0.5, -0.5, -0.5);
                int[] n = c.grid().organ().gridSize();
                double[] hi = c.grid().positionOf(n[0] - 0.5, n[1] - 0.5, n[2] - 0.5);
                if (q[0] >= lo[0] && q[0] <= hi[0] && q[1] >= lo[1] && q[1] <= hi[1] && q[2] >= lo[2] && q[2] <= hi[2]) {
                    inside++;
                    break;
                }
            }
        }
        return all == 0 ? 0 : (double) inside / all;
    }
}
