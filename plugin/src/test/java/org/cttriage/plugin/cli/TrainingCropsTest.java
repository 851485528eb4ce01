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
import org.cttriage.core.inference.OrganSegmentation;
import org.cttriage.core.inference.PreprocessingSpec;
import org.cttriage.core.volume.Volume;
import org.cttriage.core.volume.VolumeGeometry;
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

    /**
     * The box: the training writer takes it from the phantom's labels on its 4 mm lattice, parting
     * right from left at the phantom's midline; the serving path takes it from the segmentation of
     * the whole volume with {@link OrganSegmentation#box}, parting paired organs at
     * {@link OrganSegmentation#sidePlaneX}. Same sides exactly; every face within what the two
     * lattices allow (half a coarse voxel plus half a volume voxel, plus one volume voxel for the
     * organ boundary that the two lattices label differently), far inside the training jitter.
     */
    @Test
    void theServingPathFindsTheBoxesTheTrainingWriterPlans() throws Exception {
        PhantomSpec ps = phantom(PhantomFinding.RENAL_CYST);
        PhantomScene scene = PhantomScene.plan(ps);
        TrainingCrops tc = new TrainingCrops(spec(), false);
        Phantom whole = new PhantomGenerator().generate(ps, null);
        VolumeGeometry g = PhantomVolumes.geometry(whole);
        OrganSegmentation seg = new OrganSegmentation(PhantomVolumes.labelsFromFeet(whole), g.size(), g.origin(),
                g.spacing());
        List<TrainingCrops.Planned> planned = tc.plan(scene);
        assertThat(planned).hasSize(9);
        for (TrainingCrops.Planned p : planned) {
            int label = p.organ().label();
            OrganSegmentation.Side side = TrainingCrops.side(p.side());
            double plane = seg.sidePlaneX(label).orElseThrow();
            OrganSegmentation.Box served = seg.box(label, side, plane).orElseThrow();
            // the plane found in the segmentation parts the organ exactly as the phantom's midline does
            assertThat(served).as("%s", p.name()).usingRecursiveComparison()
                    .isEqualTo(seg.box(label, side, scene.midlineXLps()).orElseThrow());
            for (int a = 0; a < 3; a++) {
                double tolerance = TrainingCrops.COARSE_MM / 2 + 1.5 * g.spacing()[a];
                assertThat(served.minLps()[a]).as("%s min along axis %d", p.name(), a)
                        .isCloseTo(p.boxMin()[a], org.assertj.core.data.Offset.offset(tolerance));
                assertThat(served.maxLps()[a]).as("%s max along axis %d", p.name(), a)
                        .isCloseTo(p.boxMax()[a], org.assertj.core.data.Offset.offset(tolerance));
                System.out.printf("PARITY box %s axis %d: min %+.2f max %+.2f (tol %.2f)%n", p.name(), a,
                        served.minLps()[a] - p.boxMin()[a], served.maxLps()[a] - p.boxMax()[a], tolerance);
            }
        }
    }

    /** A scanner's lattice over the region under {@code grid}: 0.78 mm pixels, 1.5 mm slices, not aligned with the crop. */
    static TrainingCrops.RegionVolume scanUnder(OrganCrops.CropGrid grid, TrainingCrops.RegionRenderer renderer) {
        double[] spacing = {400.0 / 512, 400.0 / 512, 1.5};
        double[] o = grid.originLps();
        int[] n = grid.organ().gridSize();
        double[] s = grid.organ().spacingMm();
        double[] origin = new double[3];
        int[] size = new int[3];
        for (int a = 0; a < 3; a++) {
            origin[a] = o[a] - s[a] - 0.37 * spacing[a];
            size[a] = (int) Math.ceil(((n[a] + 1) * s[a]) / spacing[a]) + 2;
        }
        var region = renderer.render(origin, spacing, size);
        VolumeGeometry g = new VolumeGeometry(size, spacing, origin, new double[] {1, 0, 0}, new double[] {0, 1, 0},
                new double[] {0, 0, 1}, 0);
        return new TrainingCrops.RegionVolume(new Volume("", "", "", g, region.hu(), List.of(), List.of()),
                region.organLabels(), region.findingMask());
    }

    /** A phantom at generate-crops.sh's size (only planned; the tests render regions of it). */
    private static PhantomScene scannedScene() {
        return PhantomScene.plan(new PhantomSpec(4243, 512, 512, 240, 400.0 / 512, 1.5, 1.5, ContrastPhase.NONE,
                EnumSet.of(PhantomFinding.LIVER_MASS, PhantomFinding.RENAL_CYST, PhantomFinding.PANCREATIC_MASS,
                        PhantomFinding.NEPHROLITHIASIS), false));
    }

    /**
     * The voxels, for the same box: the training writer renders the phantom at half the crop's
     * in-plane spacing and the crop's z spacing, aligned with the crop; the serving path crops a
     * scanner's lattice (0.78 mm pixels, 1.5 mm slices, not aligned with the crop). Without noise,
     * where the content is uniform the two are the same (median difference 0), and elsewhere a
     * served voxel lies within the range of the trained voxels around it (the two lattices
     * interpolate edges differently, by up to a few hundred HU at bone and lung edges): organ mask,
     * HU and finding bits are the same content.
     */
    @Test
    void theServingPathCropsTheVoxelsTheTrainingWriterCropsForTheSameBox() throws Exception {
        PhantomScene scene = scannedScene();
        TrainingCrops tc = new TrainingCrops(spec(), false);
        OrganCrops crops = new OrganCrops(spec());
        for (TrainingCrops.Planned p : tc.plan(scene)) {
            OrganCrops.CropGrid grid = crops.grid(p.organ(), p.boxMin(), p.boxMax());
            TrainingCrops.Made trained = tc.make(grid, scene::renderWithoutNoise);
            TrainingCrops.RegionVolume scan = scanUnder(grid, scene::renderWithoutNoise);
            VolumeGeometry g = scan.volume().geometry();
            float[] organ = crops.labelFraction(scan.labels(), g, grid, p.organ().label());
            short[] bits = crops.bitsAny(scan.bits(), g, grid);
            float[] hu = crops.meanHu(scan.volume(), grid);
            int[] n = p.organ().gridSize();
            int count = organ.length;
            double both = 0;
            double sum = 0;
            double[] difference = new double[count];
            int withinNeighbours = 0;
            int bitsTrained = 0;
            int bitsServed = 0;
            int bitsBoth = 0;
            for (int k = 0, v = 0; k < n[2]; k++) {
                for (int j = 0; j < n[1]; j++) {
                    for (int i = 0; i < n[0]; i++, v++) {
                        both += Math.min(trained.organ()[v], organ[v]);
                        sum += trained.organ()[v] + organ[v];
                        difference[v] = Math.abs(trained.hu()[v] - hu[v]);
                        double lo = Double.POSITIVE_INFINITY;
                        double hi = Double.NEGATIVE_INFINITY;
                        for (int c = Math.max(0, k - 1); c <= Math.min(n[2] - 1, k + 1); c++) {
                            for (int b = Math.max(0, j - 1); b <= Math.min(n[1] - 1, j + 1); b++) {
                                for (int a = Math.max(0, i - 1); a <= Math.min(n[0] - 1, i + 1); a++) {
                                    float t = trained.hu()[(c * n[1] + b) * n[0] + a];
                                    lo = Math.min(lo, t);
                                    hi = Math.max(hi, t);
                                }
                            }
                        }
                        withinNeighbours += hu[v] >= lo - 1 && hu[v] <= hi + 1 ? 1 : 0;
                        bitsTrained += trained.bits()[v] != 0 ? 1 : 0;
                        bitsServed += bits[v] != 0 ? 1 : 0;
                        bitsBoth += trained.bits()[v] != 0 && bits[v] != 0 ? 1 : 0;
                    }
                }
            }
            java.util.Arrays.sort(difference);
            double within = (double) withinNeighbours / count;
            System.out.printf("PARITY voxels %s: organ Dice %.3f, |HU difference| median %.2f, 90th pct %.1f, "
                    + "99th pct %.1f; within the trained neighbours' range %.4f; finding voxels %d trained, %d served, "
                    + "%d both%n", p.name(), 2 * both / sum, difference[count / 2], difference[(int) (0.9 * (count - 1))],
                    difference[(int) (0.99 * (count - 1))], within, bitsTrained, bitsServed, bitsBoth);
            assertThat(2 * both / sum).as("organ Dice of %s", p.name()).isGreaterThan(0.97);
            assertThat(difference[count / 2]).as("median |HU difference| of %s", p.name()).isLessThan(0.5);
            // 99.6-100 % for the organs cropped at 1.5-3 mm; 98.3 % for the aorta, whose 4 mm crop slices the
            // writer renders as 4 mm slabs while the serving footprint (one sample in z) interpolates
            // between two 1.5 mm slices, so thin wall plaques are brighter served than trained (the card's
            // parity section: a gap to close in the writer or the footprint, not here).
            assertThat(within).as("%s: served voxels within the range of the trained voxels around them", p.name())
                    .isGreaterThan(p.organ().spacingMm()[2] > 3 ? 0.98 : 0.995);
            if (bitsTrained + bitsServed > 0) {
                assertThat(2.0 * bitsBoth / (bitsTrained + bitsServed)).as("finding voxels of %s", p.name())
                        .isGreaterThan(0.85);
            }
        }
        assertThat(scene.truth()).extracting(FindingTruth::finding).contains(PhantomFinding.LIVER_MASS,
                PhantomFinding.NEPHROLITHIASIS);
    }

    /**
     * Noise, which the voxel test leaves out: both paths are unbiased in the mean channels, and both
     * carry noise of the same order. They do not match: the writer renders each sample with the noise
     * of a slab of the crop's z spacing on a lattice of half its in-plane spacing, while a scanner's
     * 1.5 mm slices interpolated at the crop's footprint average theirs differently (the model card
     * gives the figures this prints). Rendering the writer's region on the scanner's lattice would
     * close it; until then this pins the gap.
     */
    @Test
    void trainingAndServingCropsCarryUnbiasedNoiseOfTheSameOrder() throws Exception {
        PhantomScene scene = scannedScene();
        TrainingCrops tc = new TrainingCrops(spec(), false);
        OrganCrops crops = new OrganCrops(spec());
        int soft = 1;
        PreprocessingSpec.Window w = crops.spec().channels().get(soft);
        assertThat(w.reduce()).isEqualTo(PreprocessingSpec.Reduce.MEAN);
        double huPerUnit = (w.upperHu() - w.lowerHu()) / 2.0;
        for (TrainingCrops.Planned p : tc.plan(scene)) {
            if (p.organ().name().equals("lung")) {
                continue; // air is outside the soft-tissue window
            }
            OrganCrops.CropGrid grid = crops.grid(p.organ(), p.boxMin(), p.boxMax());
            TrainingCrops.Made clean = tc.make(grid, scene::renderWithoutNoise);
            TrainingCrops.Made noisy = tc.make(scene, grid, 1);
            TrainingCrops.RegionVolume scanClean = scanUnder(grid, scene::renderWithoutNoise);
            TrainingCrops.RegionVolume scanNoisy = scanUnder(grid, (o, sp, sz) -> scene.render(o, sp, sz, 77));
            float[] servedClean = crops.channels(scanClean.volume(), grid);
            float[] servedNoisy = crops.channels(scanNoisy.volume(), grid);
            float[] organ = crops.labelFraction(scanClean.labels(), scanClean.volume().geometry(), grid,
                    p.organ().label());
            int n = organ.length;
            double[] t = new double[3];
            double[] s = new double[3];
            for (int v = 0; v < n; v++) {
                if (organ[v] < 1f || clean.organ()[v] < 1f) {
                    continue;
                }
                double a = (noisy.input()[soft * n + v] - clean.input()[soft * n + v]) * huPerUnit;
                double b = (servedNoisy[soft * n + v] - servedClean[soft * n + v]) * huPerUnit;
                t[0]++;
                t[1] += a;
                t[2] += a * a;
                s[0]++;
                s[1] += b;
                s[2] += b * b;
            }
            double meanT = t[1] / t[0];
            double meanS = s[1] / s[0];
            double sdT = Math.sqrt(t[2] / t[0] - meanT * meanT);
            double sdS = Math.sqrt(s[2] / s[0] - meanS * meanS);
            System.out.printf("PARITY noise %s (%s, organ interior, %d voxels): trained mean %+.2f SD %.1f HU, served "
                    + "mean %+.2f SD %.1f HU, ratio %.2f%n", p.name(), w.name(), (int) t[0], meanT, sdT, meanS, sdS,
                    sdT / sdS);
            assertThat(t[0]).as("interior voxels of %s", p.name()).isGreaterThan(500);
            assertThat(meanT).as("%s: trained noise bias", p.name()).isCloseTo(0, org.assertj.core.data.Offset.offset(1.0));
            assertThat(meanS).as("%s: served noise bias", p.name()).isCloseTo(0, org.assertj.core.data.Offset.offset(1.0));
            assertThat(sdT / sdS).as("%s: trained / served noise SD", p.name()).isBetween(0.5, 2.0);
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
