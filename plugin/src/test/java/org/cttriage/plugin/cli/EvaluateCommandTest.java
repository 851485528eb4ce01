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
        CommandLineTest.Run r = CommandLineTest.run("evaluate", "--seed", "7", "--cases", "6", "--matrix", "128",
                "--slices", "96", "--slice-spacing", "3.75", "--json", json.toString(), "--margins", margins.toString(),
                "--segmentation-dump", dump.toString(),
                "--model", Path.of("..", "models", "ctglip-ref-v2").toString(), "--device", "CPU", "--threads", "2");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(json.toFile());
        assertThat(report.get("cases").asInt()).isEqualTo(6);
        assertThat(report.get("findings")).hasSize(16);
        assertThat(report.get("dice").size()).isEqualTo(7);
        int focal = 0;
        int located = 0;
        for (JsonNode f : report.get("findings")) {
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
        assertThat(r.out()).contains("location of the focal findings").contains("all focal");

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
    }
}
