package org.cttriage.plugin.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.cttriage.core.inference.OrganCropSpec;
import org.cttriage.core.inference.OrganCrops;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.FindingTruth;
import org.cttriage.testdata.phantom.PhantomFinding;
import org.cttriage.testdata.phantom.PhantomScene;
import org.cttriage.testdata.phantom.PhantomSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine patches for a second look (generate --training-patches): one per given point and one per
 * lesion of the patch's organ, and what a patch shows of the phantom is what the serving path's
 * crop code shows at the same point of a scanner's lattice.
 */
class TrainingPatchesTest {
    static final Path PATCHES = Path.of("..", "models", "ctglip-ref", "experiments", "nodule-patches.json");

    @TempDir
    Path dir;

    private static OrganCropSpec spec() throws Exception {
        return OrganCropSpec.fromJson(new ObjectMapper().readTree(PATCHES.toFile()));
    }

    /** A planned phantom at generate-crops.sh's size with a nodule (only planned; the tests render regions of it). */
    private static PhantomScene sceneWithNodule(long seed) {
        return PhantomScene.plan(new PhantomSpec(seed, 512, 512, 240, 400.0 / 512, 1.5, 1.5, ContrastPhase.NONE,
                EnumSet.of(PhantomFinding.PULMONARY_NODULE), false));
    }

    private static FindingTruth nodule(PhantomScene scene) {
        return scene.truth().stream().filter(t -> t.finding() == PhantomFinding.PULMONARY_NODULE).findFirst().orElseThrow();
    }

    /** The shape in an .npy header and its data as little-endian bytes. */
    private static ByteBuffer npy(Path file, String shape) throws Exception {
        byte[] b = Files.readAllBytes(file);
        int headerLength = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        String header = new String(b, 10, headerLength, StandardCharsets.ISO_8859_1);
        assertThat(header).as("%s header", file.getFileName()).contains("'shape': (" + shape + ")");
        return ByteBuffer.wrap(b, 10 + headerLength, b.length - 10 - headerLength).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void onePatchPerPointThenOnePerLesionOfTheOrgan() throws Exception {
        PhantomScene scene = sceneWithNodule(4244);
        FindingTruth nodule = nodule(scene);
        long lungLesions = scene.truth().stream().filter(t -> t.finding().organ().name().equals("LUNG")).count();
        double[] point = nodule.centreLpsMm().clone();
        point[1] += 40;
        int n = new TrainingPatches(spec()).write(scene, dir, List.of(new TrainingPatches.Point(nodule.side(), point)));

        assertThat(n).isEqualTo(1 + lungLesions);
        JsonNode truth = new ObjectMapper().readTree(dir.resolve("truth.json").toFile());
        assertThat(truth.path("kind").asText()).isEqualTo("organ patches");
        assertThat(truth.path("patchGrid").path("gridSize").toString()).isEqualTo("[32,32,20]");
        JsonNode patches = truth.path("patches");
        assertThat(patches).hasSize(n);
        assertThat(patches.get(0).path("source").asText()).isEqualTo("point");
        assertThat(patches.get(0).path("side").asText()).isEqualTo(nodule.side());
        for (int a = 0; a < 3; a++) {
            assertThat(patches.get(0).path("centreLps").get(a).asDouble()).isCloseTo(point[a], Offset.offset(0.001));
        }
        JsonNode lesion = patches.get(1);
        assertThat(lesion.path("source").asText()).isEqualTo("lesion pulmonary_nodule");
        for (int a = 0; a < 3; a++) {
            assertThat(lesion.path("centreLps").get(a).asDouble()).as("jittered centre, axis %d", a)
                    .isCloseTo(nodule.centreLpsMm()[a], Offset.offset(TrainingPatches.LESION_JITTER_MM + 0.001));
        }

        String shape = n + ", 20, 32, 32";
        ByteBuffer bits = npy(dir.resolve("patches.findings.npy"), shape);
        npy(dir.resolve("patches.hu.npy"), shape);
        ByteBuffer organ = npy(dir.resolve("patches.organ.npy"), shape);
        int voxels = 32 * 32 * 20;
        int noduleVoxels = 0;
        int lungVoxels = 0;
        for (int v = 0; v < voxels; v++) {
            noduleVoxels += (bits.getShort(2 * (voxels + v)) & (1 << PhantomFinding.PULMONARY_NODULE.bit())) != 0 ? 1 : 0;
            lungVoxels += (organ.get(voxels + v) & 0xff) > 127 ? 1 : 0;
        }
        assertThat(noduleVoxels).as("nodule voxels in its patch (%.1f mm)", nodule.sizeMm()).isGreaterThan(0);
        assertThat(lungVoxels).as("lung voxels around the nodule").isGreaterThan(voxels / 4);
    }

    @Test
    void aCaseWithoutPointsOrLesionsGetsItsTruthAlone() throws Exception {
        PhantomScene scene = PhantomScene.plan(new PhantomSpec(4245, 512, 512, 240, 400.0 / 512, 1.5, 1.5,
                ContrastPhase.NONE, EnumSet.of(PhantomFinding.RENAL_CYST), false));
        assertThat(new TrainingPatches(spec()).write(scene, dir, List.of())).isZero();
        assertThat(new ObjectMapper().readTree(dir.resolve("truth.json").toFile()).path("patches")).isEmpty();
        assertThat(dir.resolve("patches.hu.npy")).doesNotExist();
    }

    /**
     * The voxels at the same point: the writer renders the phantom at half the patch's in-plane
     * spacing, aligned with the patch; the serving path samples a scanner's lattice (0.78 mm pixels,
     * 1.5 mm slices, not aligned). Without noise the nodule's bits agree (Dice 0.76-0.91 on these
     * three) and its mean HU agrees within what the two lattices' partial volume allows (13-23 HU).
     */
    @Test
    void aPatchSeesWhatTheServingPathSeesAtTheSamePoint() throws Exception {
        OrganCrops crops = new OrganCrops(spec());
        TrainingPatches tp = new TrainingPatches(spec());
        for (long seed : new long[] {4244, 4246, 4247}) {
            PhantomScene scene = sceneWithNodule(seed);
            FindingTruth nodule = nodule(scene);
            OrganCrops.CropGrid grid = tp.grid(nodule.centreLpsMm());
            TrainingCrops.Made trained = tp.make(grid, scene::renderWithoutNoise);
            TrainingCrops.RegionVolume scan = TrainingCropsTest.scanUnder(grid, scene::renderWithoutNoise);
            float[] hu = crops.meanHu(scan.volume(), grid);
            short[] bits = crops.bitsAny(scan.bits(), scan.volume().geometry(), grid);
            int bit = 1 << PhantomFinding.PULMONARY_NODULE.bit();
            int both = 0;
            int inTrained = 0;
            int inServed = 0;
            double huTrained = 0;
            double huServed = 0;
            double[] difference = new double[hu.length];
            for (int v = 0; v < hu.length; v++) {
                boolean t = (trained.bits()[v] & bit) != 0;
                boolean s = (bits[v] & bit) != 0;
                inTrained += t ? 1 : 0;
                inServed += s ? 1 : 0;
                if (t && s) {
                    both++;
                    huTrained += trained.hu()[v];
                    huServed += hu[v];
                }
                difference[v] = Math.abs(trained.hu()[v] - hu[v]);
            }
            Arrays.sort(difference);
            double dice = 2.0 * both / (inTrained + inServed);
            System.out.printf("PARITY patch seed %d, %.1f mm nodule: bits Dice %.3f (%d/%d), mean HU %.1f vs %.1f, "
                            + "median |difference| %.1f HU%n", seed, nodule.sizeMm(), dice, inTrained, inServed,
                    huTrained / both, huServed / both, difference[difference.length / 2]);
            // a 4 mm nodule covers some 30-50 patch voxels, most of them on its boundary, where the two lattices differ
            assertThat(dice).as("nodule bits Dice, seed %d", seed).isGreaterThan(nodule.sizeMm() < 6 ? 0.7 : 0.85);
            assertThat(huTrained / both).as("mean HU in the nodule, seed %d", seed)
                    .isCloseTo(huServed / both, Offset.offset(60.0));
            assertThat(difference[difference.length / 2]).as("median |difference|, seed %d", seed).isLessThan(5.0);
        }
    }

    @Test
    void pointsAreReadPerSeedAndBadOnesRefused() throws Exception {
        ObjectMapper m = new ObjectMapper();
        Map<Long, List<TrainingPatches.Point>> points = TrainingPatches.readPoints(m.readTree(
                "{\"7\": [{\"side\": \"left\", \"lps\": [1, 2, 3]}, {\"side\": \"right\", \"lps\": [-4, 5, 6.5]}], \"8\": []}"));
        assertThat(points).containsOnlyKeys(7L, 8L);
        assertThat(points.get(7L)).hasSize(2);
        assertThat(points.get(7L).get(1).side()).isEqualTo("right");
        assertThat(points.get(7L).get(1).lps()).containsExactly(-4, 5, 6.5);
        assertThatThrownBy(() -> TrainingPatches.readPoints(m.readTree("{\"x\": []}")))
                .hasMessageContaining("not a seed");
        assertThatThrownBy(() -> TrainingPatches.readPoints(m.readTree("{\"7\": [{\"side\": \"left\", \"lps\": [1, 2]}]}")))
                .hasMessageContaining("lps [x, y, z]");
        assertThatThrownBy(() -> TrainingPatches.readPoints(m.readTree("{\"7\": [{\"side\": \"up\", \"lps\": [1, 2, 3]}]}")))
                .hasMessageContaining("side must be");
        assertThatThrownBy(() -> new TrainingPatches(OrganCropSpec.fromJson(m.readTree(Files.readString(
                Path.of("..", "models", "ctglip-ref", "experiments", "organ-crops-lung-3mm.json")).replace(
                "\"organs\": [", "\"organs\": [{\"name\": \"liver\", \"label\": 2, \"gridSize\": [8, 8, 8], "
                        + "\"spacingMm\": [1, 1, 1], \"marginMm\": 0},")))))
                .hasMessageContaining("exactly one organ grid");
    }
}
