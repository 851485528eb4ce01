package org.cttriage.plugin.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.cttriage.core.inference.OrganCropSpec;
import org.cttriage.core.inference.OrganCrops;
import org.cttriage.core.volume.Volume;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.FindingTruth;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomFinding;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomScene;
import org.cttriage.testdata.phantom.PhantomSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Organ crops for training (generate --training-crops) against the serving path: the generator
 * renders only the region under a crop, inference will crop the whole assembled volume; both go
 * through {@link OrganCrops}, and what they see of the same phantom must agree.
 */
class TrainingCropsTest {
    static final Path CROPS = Path.of("..", "models", "ctglip-ref", "experiments", "organ-crops.json");

    @TempDir
    Path dir;

    private static OrganCropSpec spec() throws Exception {
        return OrganCropSpec.fromJson(new ObjectMapper().readTree(CROPS.toFile()));
    }

    /** 1.5625 mm pixels, 3 mm slices: a whole phantom a test can afford, with the usual 360 mm coverage. */
    private static PhantomSpec phantom(PhantomFinding... findings) {
        return new PhantomSpec(4242, 256, 256, 120, 400.0 / 256, 3.0, 3.0, ContrastPhase.NONE,
                EnumSet.copyOf(List.of(findings)), false);
    }

    @Test
    void aCropOfTheRenderedRegionSeesWhatACropOfTheWholeVolumeSees() throws Exception {
        PhantomSpec ps = phantom(PhantomFinding.LIVER_MASS, PhantomFinding.RENAL_CYST);
        PhantomScene scene = PhantomScene.plan(ps);
        TrainingCrops tc = new TrainingCrops(spec(), false);
        Phantom whole = new PhantomGenerator().generate(ps, null);
        Volume served = PhantomVolumes.toVolume(whole);
        OrganCrops crops = new OrganCrops(spec());
        List<TrainingCrops.Planned> planned = tc.plan(scene);
        assertThat(planned).extracting(TrainingCrops.Planned::name).containsExactly("lung_right", "lung_left", "liver",
                "gallbladder", "kidney_right", "kidney_left", "pancreas", "spleen", "aorta");
        for (TrainingCrops.Planned p : planned) {
            if (!List.of("liver", "kidney_right", "kidney_left").contains(p.name())) {
                continue;
            }
            OrganCrops.CropGrid grid = crops.grid(p.organ(), p.boxMin(), p.boxMax());
            TrainingCrops.Made trained = tc.make(scene, grid, 1);
            float[] servedOrgan = crops.labelFraction(PhantomVolumes.labelsFromFeet(whole), served.geometry(), grid,
                    p.organ().label());
            float[] servedHu = crops.meanHu(served, grid);
            double both = 0;
            double sum = 0;
            double huTrained = 0;
            double huServed = 0;
            int inside = 0;
            for (int v = 0; v < servedOrgan.length; v++) {
                both += Math.min(trained.organ()[v], servedOrgan[v]);
                sum += trained.organ()[v] + servedOrgan[v];
                if (trained.organ()[v] == 1f && servedOrgan[v] == 1f) {
                    huTrained += trained.hu()[v];
                    huServed += servedHu[v];
                    inside++;
                }
            }
            double dice = 2 * both / sum;
            assertThat(dice).as("organ Dice of %s, region render vs whole volume", p.name()).isGreaterThan(0.9);
            assertThat(inside).isGreaterThan(1000);
            assertThat(huTrained / inside).as("mean HU inside %s", p.name()).isCloseTo(huServed / inside,
                    org.assertj.core.data.Offset.offset(5.0));
        }
    }

    @Test
    void aLesionLandsInItsCropWhereTheTruthSaysAndOnItsSide() throws Exception {
        PhantomSpec ps = phantom(PhantomFinding.LIVER_MASS, PhantomFinding.HYDRONEPHROSIS);
        PhantomScene scene = PhantomScene.plan(ps);
        TrainingCrops tc = new TrainingCrops(spec(), false);
        OrganCrops crops = new OrganCrops(spec());
        for (FindingTruth t : scene.truth()) {
            String name = t.side().isEmpty() ? "liver" : "kidney_" + t.side();
            TrainingCrops.Planned p = tc.plan(scene).stream().filter(q -> q.name().equals(name)).findFirst().orElseThrow();
            OrganCrops.CropGrid grid = crops.grid(p.organ(), p.boxMin(), p.boxMax());
            short[] bits = tc.make(scene, grid, 1).bits();
            double[] c = t.centreLpsMm();
            double[] o = grid.originLps();
            double[] s = p.organ().spacingMm();
            int[] n = p.organ().gridSize();
            int i = (int) Math.round((c[0] - o[0]) / s[0]);
            int j = (int) Math.round((c[1] - o[1]) / s[1]);
            int k = (int) Math.round((c[2] - o[2]) / s[2]);
            assertThat(bits[(k * n[1] + j) * n[0] + i] & (1 << t.finding().bit())).as("%s at its centre", t).isNotZero();
        }
    }

    @Test
    void generateWritesEveryCropAndItsTruth() throws Exception {
        Path out = dir.resolve("crops");
        assertThat(CommandLineTest.run("generate", "--training-crops", CROPS.toString(), "--matrix", "256",
                "--slices", "120", "--slice-spacing", "3", "--findings", "pulmonary_nodule", "--seed", "5",
                "--out", out.toString()).exitCode()).isZero();
        Path c = out.resolve("case-00000");
        JsonNode truth = new ObjectMapper().readTree(c.resolve("truth.json").toFile());
        assertThat(truth.path("crops")).hasSize(9);
        String side = truth.path("findings").get(0).path("side").asText();
        for (JsonNode crop : truth.path("crops")) {
            String name = crop.path("name").asText();
            for (String suffix : List.of(".input.npy", ".organ.npy", ".findings.npy", ".hu.npy")) {
                assertThat(c.resolve(name + suffix)).exists();
            }
            int[] n = {crop.path("gridSize").get(0).asInt(), crop.path("gridSize").get(1).asInt(),
                crop.path("gridSize").get(2).asInt()};
            // int16 × 6 channels after a header of at most 128 bytes
            assertThat(Files.size(c.resolve(name + ".input.npy")) - 2L * 6 * n[0] * n[1] * n[2]).isBetween(64L, 256L);
            boolean nodule = crop.path("findings").findValuesAsText("id").contains("pulmonary_nodule");
            assertThat(nodule).as(name).isEqualTo(name.equals("lung_" + side));
        }
    }
}
