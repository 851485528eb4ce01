package org.cttriage.plugin.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * evaluate on the two-stage package: fresh phantoms through DICOM, the figures per finding, Dice, and
 * the location of the focal findings, consistent between the JSON and the printed table.
 */
class EvaluateCommandTest {
    @TempDir
    Path dir;

    @Test
    void reportsAucDiceAndTheLocationHitRatesOfTheFocalFindings() throws Exception {
        Path json = dir.resolve("report.json");
        Path margins = dir.resolve("margins.json");
        Path dump = dir.resolve("segmentation");
        Path crops = dir.resolve("crops");
        Path cropSpec = dir.resolve("lung-crops.json");
        Files.writeString(cropSpec, """
                {"orientation": "LPS", "interpolation": "trilinear", "footprintSamples": [2, 2, 1], "outsideHu": -1024,
                 "channels": [{"name": "wide", "lowerHu": -1024, "upperHu": 1024, "reduce": "mean"}],
                 "organs": [{"name": "lung", "label": 1, "bySide": true, "gridSize": [40, 48, 64],
                             "spacingMm": [3, 3, 3], "marginMm": 6}]}
                """);
        CommandLineTest.Run r = CommandLineTest.run("evaluate", "--seed", "7", "--cases", "6", "--matrix", "128",
                "--slices", "96", "--slice-spacing", "3.75", "--json", json.toString(), "--margins", margins.toString(),
                "--segmentation-dump", dump.toString(), "--crop-dump", crops.toString(), "--crop-dump-spec",
                cropSpec.toString(),
                "--model", Path.of("..", "models", "ctglip-ref-v2").toString(), "--device", "CPU", "--threads", "2");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(json.toFile());
        assertThat(report.get("cases").asInt()).isEqualTo(6);
        assertThat(report.get("findings")).hasSize(16);
        assertThat(report.get("dice").size()).isEqualTo(7);
        int focal = 0;
        int located = 0;
        for (JsonNode f : report.get("findings")) {
            if (f.get("aucLow95").isNumber()) {
                assertThat(f.get("auc").asDouble()).as(f.get("id").asText() + ": the AUC inside its interval")
                        .isBetween(f.get("aucLow95").asDouble(), f.get("aucHigh95").asDouble());
            } else {
                assertThat(Math.min(f.get("positives").asInt(), f.get("negatives").asInt())).isLessThan(2);
            }
            boolean isFocal = LocationHits.focal(f.get("id").asText());
            assertThat(f.has("location")).as(f.get("id").asText()).isEqualTo(isFocal);
            if (!isFocal) {
                continue;
            }
            focal++;
            JsonNode l = f.get("location");
            assertThat(l.get("hits").asInt()).isBetween(0, l.get("truePositives").asInt());
            assertThat(l.get("truePositives").asInt()).isLessThanOrEqualTo(f.get("positives").asInt());
            assertThat(l.get("hitsAllPositives").asInt()).isBetween(0, l.get("positivesLocated").asInt());
            assertThat(l.get("positivesLocated").asInt()).isLessThanOrEqualTo(f.get("positives").asInt());
            if (l.get("positivesLocated").asInt() > 0) {
                assertThat(l.get("hitRateAllPositives").asDouble())
                        .isEqualTo(Math.round(10000.0 * l.get("hitsAllPositives").asInt()
                                / l.get("positivesLocated").asInt()) / 10000.0);
            } else {
                assertThat(l.get("hitRateAllPositives").isNull()).isTrue();
            }
            located += l.get("positivesLocated").asInt();
        }
        assertThat(focal).isEqualTo(7);
        assertThat(located).as("focal positives located in 6 random phantoms").isPositive();
        assertThat(report.get("location").get("toleranceMm").asDouble()).isEqualTo(10.0);
        assertThat(report.get("location").get("positivesLocated").asInt()).isEqualTo(located);
        assertThat(r.out()).contains("location of the focal findings").contains("all focal").contains("95 % interval");

        // the margins a package is calibrated on: the finding head's maxima beside each crop finding's margin
        JsonNode m = new ObjectMapper().readTree(margins.toFile()).get("findings");
        assertThat(m.get("aortic_aneurysm").get("headPeak")).as("a coarse finding has no crop head")
                .allSatisfy(v -> assertThat(v.isNull()).isTrue());
        JsonNode consolidation = m.get("consolidation");
        JsonNode emphysema = m.get("emphysema");
        for (int c = 0; c < 6; c++) {
            double peak = consolidation.get("headPeak").get(c).asDouble();
            assertThat(consolidation.get("margin").get(c).asDouble()).as("a head finding's margin is its peak")
                    .isEqualTo(peak);
            assertThat(peak).as("the peak anywhere in the crop is at least the maximum inside the mask")
                    .isGreaterThanOrEqualTo(consolidation.get("headMax").get(c).asDouble() - 1e-5);
            assertThat(emphysema.get("headPeak").get(c).isNumber()).isTrue();
            assertThat(emphysema.get("margin").get(c).asDouble()).as("an embedding finding's margin is a cosine difference")
                    .isBetween(-2.0, 2.0).isNotEqualTo(emphysema.get("headPeak").get(c).asDouble());
        }

        // what a segmentation refiner is trained on: per case the coarse stage's input, its organ probabilities
        // (before the package's refiner) and the phantom's labels on the same grid
        JsonNode grid = new ObjectMapper().readTree(dump.resolve("grid.json").toFile());
        assertThat(grid.get("seed").asInt()).isEqualTo(7);
        int classes = grid.get("classes").asInt();
        assertThat(classes).isEqualTo(8);
        long voxels = 1;
        for (JsonNode n : grid.get("zyx")) {
            voxels *= n.asLong();
        }
        for (int c = 0; c < 6; c++) {
            String name = String.format("case-%05d", c);
            assertThat(Files.size(dump.resolve(name + ".input"))).isEqualTo(6 * 4 * voxels);
            assertThat(Files.size(dump.resolve(name + ".labels"))).isEqualTo(voxels);
            byte[] p = Files.readAllBytes(dump.resolve(name + ".probabilities"));
            assertThat((long) p.length).isEqualTo(classes * 4 * voxels);
            FloatBuffer f = ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            double sum = 0;
            for (int k = 0; k < classes; k++) {
                sum += f.get((int) (k * voxels + voxels / 2));
            }
            assertThat(sum).as("a voxel's class probabilities sum to one").isCloseTo(1.0, within(1e-3));
        }

        // the served crops (what the engine's crop stage makes of the served boxes) beside the training path's
        // rendering of the same grid: the same anatomy, the served mask overlapping the true one
        int voxelsPerCrop = 40 * 48 * 64;
        for (int c = 0; c < 6; c++) {
            Path folder = crops.resolve(String.format("case-%05d", c));
            JsonNode truth = new ObjectMapper().readTree(folder.resolve("truth.json").toFile());
            assertThat(truth.get("seed").asInt()).isEqualTo(7 + c);
            assertThat(truth.get("crops")).extracting(n -> n.get("name").asText())
                    .containsExactly("lung_right", "lung_left");
            for (String side : new String[] {"lung_right", "lung_left"}) {
                short[] hu = int16(folder.resolve(side + ".hu.npy"), voxelsPerCrop);
                short[] renderHu = int16(folder.resolve(side + ".render-hu.npy"), voxelsPerCrop);
                byte[] mask = uint8(folder.resolve(side + ".organ.npy"), voxelsPerCrop);
                byte[] trueMask = uint8(folder.resolve(side + ".render-organ.npy"), voxelsPerCrop);
                double both = 0;
                double served = 0;
                double rendered = 0;
                double servedLung = 0;
                double renderedLung = 0;
                for (int v = 0; v < voxelsPerCrop; v++) {
                    boolean a = (mask[v] & 0xff) >= 128;
                    boolean b = (trueMask[v] & 0xff) >= 128;
                    served += a ? 1 : 0;
                    rendered += b ? 1 : 0;
                    if (a && b) {
                        both++;
                        servedLung += hu[v];
                        renderedLung += renderHu[v];
                    }
                }
                assertThat(2 * both / (served + rendered)).as("%s %s: Dice of the served mask and the true one",
                        folder.getFileName(), side).isGreaterThan(0.8);
                assertThat(servedLung / both).as("the served lung's mean HU against the rendered one's")
                        .isCloseTo(renderedLung / both, within(40.0)).isBetween(-950.0, -700.0);
            }
        }
    }

    @Test
    void insertsTheRequestedFindingInEveryPhantomOfAnEnrichedSet() throws Exception {
        Path margins = dir.resolve("enriched-margins.json");
        CommandLineTest.Run r = CommandLineTest.run("evaluate", "--seed", "11", "--cases", "2", "--matrix", "128",
                "--slices", "96", "--slice-spacing", "3.75", "--findings", "pancreatic_mass", "--margins",
                margins.toString(), "--model", Path.of("..", "models", "ctglip-ref-v2").toString(), "--device", "CPU",
                "--threads", "2");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode m = new ObjectMapper().readTree(margins.toFile()).get("findings");
        assertThat(m.get("pancreatic_mass").get("truth")).hasSize(2).allSatisfy(t -> assertThat(t.asBoolean()).isTrue());
        assertThat(m.get("pancreatic_mass").get("margin")).hasSize(2).allSatisfy(v -> assertThat(v.isNumber()).isTrue());

        CommandLineTest.Run bad = CommandLineTest.run("evaluate", "--seed", "11", "--cases", "1", "--findings",
                "pancreatic_masss", "--model", Path.of("..", "models", "ctglip-ref-v2").toString());
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("pancreatic_masss");
    }

    /** The last n int16 values of a .npy file (its data, little-endian, after the header). */
    private static short[] int16(Path npy, int n) throws java.io.IOException {
        byte[] b = Files.readAllBytes(npy);
        short[] out = new short[n];
        ByteBuffer.wrap(b, b.length - 2 * n, 2 * n).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(out);
        return out;
    }

    private static byte[] uint8(Path npy, int n) throws java.io.IOException {
        byte[] b = Files.readAllBytes(npy);
        return java.util.Arrays.copyOfRange(b, b.length - n, b.length);
    }
}
