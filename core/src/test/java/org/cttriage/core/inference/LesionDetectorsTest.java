package org.cttriage.core.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.withinPercentage;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The third stage's arithmetic (windows, overlap, smoothing, region, location) and its parity with PyTorch. */
class LesionDetectorsTest {
    static final Path PACKAGE = Path.of("..", "models", "ctglip-ref-v2");
    static final Path PARITY = Path.of("src", "test", "resources", "lesion-detector-parity.json");

    @Test
    void aCropIsCutIntoWindowsAStrideApartTheLastFlushWithTheEnd() {
        // the kidney crop of the package: 52 x 44 x 88 voxels (x, y, z), windows of 48 every 36
        LesionDetectors.Windows w = new LesionDetectors.Windows(new int[] {52, 44, 88}, 48, 36);
        assertThat(w.full).containsExactly(52, 48, 88);
        assertThat(w.starts[0]).containsExactly(0, 4);
        assertThat(w.starts[1]).containsExactly(0);
        assertThat(w.starts[2]).containsExactly(0, 36, 40);
        assertThat(w.count()).isEqualTo(6);
        // an odd size is padded to even
        assertThat(new LesionDetectors.Windows(new int[] {49, 10, 97}, 48, 36).full).containsExactly(50, 48, 98);
    }

    @Test
    void aWholeCropDetectorTakesTheCropAsOneWindowPaddedToAMultiple() {
        // the kidney crop, padded to multiples of 8 (three poolings below half resolution)
        LesionDetectors.Windows w = LesionDetectors.Windows.whole(new int[] {52, 44, 88}, 8);
        assertThat(w.full).containsExactly(56, 48, 88);
        assertThat(w.window).containsExactly(56, 48, 88);
        assertThat(w.count()).isEqualTo(1);
        // a non-cubic window keeps x fastest: crop voxel (z, y, x) lands at (z * 4 + y) * 4 + x of a 4 x 4 x 8 window
        float[] x = new float[3 * 2 * 5];
        for (int v = 0; v < x.length; v++) {
            x[v] = v + 1;
        }
        LesionDetectors.Windows small = LesionDetectors.Windows.whole(new int[] {3, 2, 5}, 4);
        assertThat(small.window).containsExactly(4, 4, 8);
        float[] cut = small.cut(x, 1);
        assertThat(cut).hasSize(128);
        assertThat(cut[(4 * 4 + 1) * 4 + 2]).isEqualTo(x[(4 * 2 + 1) * 3 + 2]);
        assertThat(cut[(5 * 4) * 4]).isZero();
        // its map is taken whole: half-resolution voxel (z, y, x) of the window is that of the crop
        LesionDetectors.Detector d = new LesionDetectors.Detector("kidney", null, List.of("renal_cyst"), List.of(), 0, 0, 1, 0, 4);
        float[] prob = new float[2 * 2 * 4];
        prob[(2 * 2 + 0) * 2 + 1] = 0.9f; // half voxel z 2, y 0, x 1 (the crop's half grid is 2 x 1 x 3)
        LesionDetectors.Lesion l = LesionDetectors.peaks(small, prob, d, new float[30], null).get("renal_cyst");
        assertThat(l.probability()).isCloseTo(0.9, within(1e-6));
    }

    @Test
    void windowsCarryTheCropAndZerosBeyondIt() {
        int[] size = {3, 2, 2};
        float[] x = new float[12];
        for (int v = 0; v < x.length; v++) {
            x[v] = v + 1;
        }
        LesionDetectors.Windows w = new LesionDetectors.Windows(size, 4, 2);
        assertThat(w.count()).isEqualTo(1);
        float[] cut = w.cut(x, 1);
        assertThat(cut).hasSize(64);
        // window voxel (z, y, x) = crop voxel (z, y, x) inside the crop, 0 outside
        assertThat(cut[0]).isEqualTo(1f);
        assertThat(cut[2]).isEqualTo(3f);
        assertThat(cut[3]).isZero();
        assertThat(cut[4]).isEqualTo(4f);
        assertThat(cut[16 + 4 + 2]).isEqualTo(12f);
        assertThat(cut[2 * 16]).isZero();
    }

    @Test
    void thePeakIsTheSmoothedMaximumInsideTheDilatedMaskAndLocatedThere() {
        int[] size = {8, 8, 8};
        LesionDetectors.Windows w = new LesionDetectors.Windows(size, 8, 8);
        LesionDetectors.Detector d = new LesionDetectors.Detector("kidney", null, List.of("renal_cyst"), List.of(), 8, 8, 3, 0, 0);
        float[] prob = new float[64]; // one window, one finding, 4 x 4 x 4 at half resolution
        for (int z = 0; z < 3; z++) {     // a lesion over half voxels 0..2, centred on (1, 1, 1), inside the mask
            for (int y = 0; y < 3; y++) {
                for (int x = 0; x < 3; x++) {
                    prob[(z * 4 + y) * 4 + x] = 0.5f;
                }
            }
        }
        prob[(3 * 4 + 3) * 4 + 3] = 1f;   // a spike outside the mask's region
        float[] mask = new float[512];
        for (int z = 0; z < 4; z++) {
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 4; x++) {
                    mask[(z * 8 + y) * 8 + x] = 1f;
                }
            }
        }
        OrganCrops.CropGrid grid = new OrganCrops.CropGrid(new OrganCropSpec.OrganGrid("kidney", 4, true, size,
                new double[] {1.5, 1.5, 1.5}, 6), new double[] {-10, 20, 30}, true);
        LesionDetectors.Lesion l = LesionDetectors.peaks(w, prob, d, mask, grid).get("renal_cyst");
        // the 3^3 mean at (1, 1, 1) takes the whole lesion; at (0, 0, 0) the voxels outside the grid count as zeros
        assertThat(l.probability()).isCloseTo(0.5, within(1e-6));
        // half voxel (1, 1, 1) covers crop voxels 2 and 3: its centre is crop voxel 2.5
        assertThat(l.pointLps()).containsExactly(-10 + 2.5 * 1.5, 20 + 2.5 * 1.5, 30 + 2.5 * 1.5);
        assertThat(l.logit()).isCloseTo(0.0, within(1e-5));

        // the spike is 1 / 27 after smoothing, below the lesion wherever the region is; with no mask voxel at
        // all the whole crop is the region and the lesion is still the peak
        LesionDetectors.Lesion anywhere = LesionDetectors.peaks(w, prob, d, new float[512], grid).get("renal_cyst");
        assertThat(anywhere.probability()).isCloseTo(0.5, within(1e-6));
        // a finding whose only strong voxel lies outside the region scores what the region holds
        float[] outside = new float[64];
        outside[(3 * 4 + 3) * 4 + 3] = 1f;
        assertThat(LesionDetectors.peaks(w, outside, d, mask, grid).get("renal_cyst").probability())
                .isCloseTo(0.0, within(1e-9));
    }

    @Test
    void overlappingWindowsAreAveraged() {
        int[] size = {4, 4, 6};
        LesionDetectors.Windows w = new LesionDetectors.Windows(size, 4, 2);
        assertThat(w.starts[2]).containsExactly(0, 2);
        LesionDetectors.Detector d = new LesionDetectors.Detector("kidney", null, List.of("renal_cyst"), List.of(), 4, 2, 1, 0, 0);
        float[] prob = new float[16]; // two windows of 2 x 2 x 2
        java.util.Arrays.fill(prob, 0, 8, 0.2f);
        java.util.Arrays.fill(prob, 8, 16, 0.6f);
        float[] mask = new float[96];
        mask[(2 * 4 + 0) * 4 + 0] = 1f; // crop voxel z = 2: half voxel z = 1, covered by both windows
        LesionDetectors.Lesion l = LesionDetectors.peaks(w, prob, d, mask, null).get("renal_cyst");
        assertThat(l.probability()).isCloseTo(0.4, within(1e-6));
    }

    @Test
    void theOrganMedianIsNumpysAndFortyHuWithoutAMask() {
        assertThat(LesionDetectors.organMedian(new float[] {10, 50, 20, 99}, new float[] {1, 1, 1, 0})).isEqualTo(20.0);
        assertThat(LesionDetectors.organMedian(new float[] {10, 50, 20, 30}, new float[] {1, 1, 1, 1})).isEqualTo(25.0);
        assertThat(LesionDetectors.organMedian(new float[] {10, 50}, new float[] {0.5f, 0})).isEqualTo(40.0);
        float[] in = LesionDetectors.inputs(new float[] {-500, 40, 140}, new float[] {1, 1, 1},
                List.of(new LesionDetectors.Channel("organ_contrast", true, 0, 100, 1.5),
                        new LesionDetectors.Channel("soft_tissue", false, 40, 200, 1)));
        assertThat(in).containsExactly(-1.5f, 0f, 1f, -1f, 0f, 0.5f);
    }

    /**
     * The engine's detector on the synthetic crop of detector_parity.py gives the peak PyTorch gave
     * (lesion_detector.score, window by window or on the whole crop), with the sphere and without it: windows,
     * ONNX export, overlap, smoothing and region agree.
     */
    @Test
    void theEngineScoresACropAsPyTorchDid() throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode fixture = json.readTree(PARITY.toFile());
        ModelPackage pkg = ModelPackage.load(PACKAGE);
        JsonNode stage = pkg.manifest().path("organCrops");
        OnnxRuntimeNatives.prepare();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, Integer> channels = new LinkedHashMap<>();
        stage.path("findingChannels").fields().forEachRemaining(e -> channels.put(e.getKey(), e.getValue().asInt()));
        Map<String, String> organOf = new HashMap<>();
        pkg.dictionary().findings().forEach(f -> organOf.put(f.id(), f.organ()));
        Set<String> encoders = new java.util.HashSet<>();
        stage.path("encoders").fieldNames().forEachRemaining(encoders::add);
        int checked = 0;
        try (LesionDetectors detectors = LesionDetectors.open(stage.path("lesionDetectors"), encoders, channels,
                organOf, file -> env.createSession(pkg.folder().resolve(file).toString()))) {
            assertThat(detectors).as("the package has a third stage").isNotNull();
            for (var it = fixture.path("detectors").fields(); it.hasNext(); ) {
                var e = it.next();
                String organ = e.getKey();
                if (!detectors.covers(organ)) {
                    continue; // calibration dropped it from the package
                }
                JsonNode d = e.getValue();
                assertThat(ModelPackage.sha256(pkg.folder().resolve(d.path("file").asText())))
                        .as("the fixture is of this export (rerun experiments/detector_parity.py)")
                        .isEqualTo(d.path("onnxSha256").asText());
                int[] size = {d.path("gridSize").get(0).asInt(), d.path("gridSize").get(1).asInt(),
                    d.path("gridSize").get(2).asInt()};
                for (boolean lesion : new boolean[] {true, false}) {
                    float[][] crop = syntheticCrop(size, lesion);
                    assertThat(LesionDetectors.organMedian(crop[0], crop[1]))
                            .isEqualTo(d.path("organMedianHu").asDouble());
                    Map<String, LesionDetectors.Lesion> got = detectors.detect(env, organ, crop[0], crop[1], size,
                            null);
                    String key = lesion ? "peaks" : "peaksWithoutLesion";
                    assertThat(d.path(key).size()).as(key + " in the fixture").isPositive();
                    for (var p = d.path(key).fields(); p.hasNext(); ) {
                        var want = p.next();
                        // near 0 a probability is compared relatively (a saturated detector's background)
                        double prob = got.get(want.getKey()).probability();
                        double w = want.getValue().asDouble();
                        assertThat(prob).as(organ + " " + want.getKey() + " " + key)
                                .isCloseTo(w, within(2e-4))
                                .isCloseTo(w, withinPercentage(0.5));
                        // near 1 the probability says little (a detector saturated on the synthetic crop, with the
                        // sphere and without it): its logit still tells the two apart, up to float32's steps near 1
                        assertThat(Math.log(prob / (1 - prob))).as(organ + " " + want.getKey() + " " + key + ", logit")
                                .isCloseTo(Math.log(w / (1 - w)), within(0.25));
                        checked++;
                    }
                }
            }
        }
        assertThat(checked).isPositive();
    }

    /** detector_parity.synthetic_crop: HU and mask, [z, y, x], of a grid of size (x, y, z), with or without the sphere. */
    static float[][] syntheticCrop(int[] size, boolean lesion) {
        int sx = size[0];
        int sy = size[1];
        int sz = size[2];
        double cx = (sx - 1) / 2.0;
        double cy = (sy - 1) / 2.0;
        double cz = (sz - 1) / 2.0;
        double r = 0.12 * Math.min(sx, Math.min(sy, sz));
        float[] hu = new float[sx * sy * sz];
        float[] mask = new float[hu.length];
        for (int z = 0; z < sz; z++) {
            for (int y = 0; y < sy; y++) {
                for (int x = 0; x < sx; x++) {
                    int v = (z * sy + y) * sx + x;
                    double e = sq((x - cx) / (0.3 * sx)) + sq((y - cy) / (0.3 * sy)) + sq((z - cz) / (0.3 * sz));
                    boolean inside = e <= 1;
                    double h = inside ? 35.0 : -80.0 + 5.0 * (x % 7);
                    if (lesion && sq(x - (cx + 0.1 * sx)) + sq(y - cy) + sq(z - (cz - 0.1 * sz)) <= r * r) {
                        h = 5.0;
                    }
                    hu[v] = (float) h;
                    mask[v] = inside ? 1f : 0f;
                }
            }
        }
        return new float[][] {hu, mask};
    }

    private static double sq(double v) {
        return v * v;
    }
}
