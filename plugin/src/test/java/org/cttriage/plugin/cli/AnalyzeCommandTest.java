package org.cttriage.plugin.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** analyze: DICOM folder in, SR and result.json out, with the committed reference model, no network. */
@RequiresTools({"dciodvfy", "dsr2xml", "dsrdump", "dcmodify"})
class AnalyzeCommandTest {
    @TempDir
    Path dir;

    @Test
    void writesValidSrAndResultJson() throws Exception {
        Path study = dir.resolve("study");
        assertThat(CommandLineTest.run("generate", "--out", study.toString(), "--seed", "31", "--matrix", "128",
                "--slices", "96", "--slice-spacing", "3.75", "--findings", "pleural_effusion,splenomegaly").exitCode()).isZero();
        Path out = dir.resolve("out");
        CommandLineTest.Run r = CommandLineTest.run("analyze", study.resolve("dicom").toString(), "--out", out.toString(),
                "--model", Path.of("..", "models", "ctglip-ref").toString(), "--device", "CPU",
                "--add-finding", "big_liver=liver:enlarged liver|hepatomegaly:normal liver size",
                "--add-finding", "striped_liver=liver:zebra striped liver:normal liver");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("striped_liver").contains("zebra").contains("striped");
        JsonNode result = new ObjectMapper().readTree(out.resolve("result.json").toFile());
        assertThat(result.get("findings")).hasSize(18);
        assertThat(result.get("findings").get(16).get("id").asText()).isEqualTo("big_liver");
        assertThat(result.get("model").get("name").asText()).isEqualTo("ctglip-ref");
        assertThat(result.get("suggestedPriority").asText()).isIn("ROUTINE", "URGENT", "ASAP", "STAT");
        assertThat(result.get("sourceInstances")).hasSize(96);
        JsonNode bundle = new ObjectMapper().readTree(out.resolve("fhir-bundle.json").toFile());
        assertThat(bundle.get("resourceType").asText()).isEqualTo("Bundle");
        assertThat(bundle.get("type").asText()).isEqualTo("transaction");
        assertThat(bundle.get("entry")).hasSize(1 + 18 + 1 + 1);
        ExternalCommand.Result v = ExternalCommand.run(Duration.ofSeconds(60), "dciodvfy", "-new", out.resolve("sr.dcm").toString());
        assertThat(v.output().lines().filter(l -> l.startsWith("Error")).toList()).as(v.output()).isEmpty();
        assertThat(ExternalCommand.run(Duration.ofSeconds(60), "dsr2xml", out.resolve("sr.dcm").toString()).exitCode()).isZero();
        // The organs as a SEG beside the SR, and key images when a finding is called present (none otherwise).
        ExternalCommand.Result seg = ExternalCommand.run(Duration.ofSeconds(60), "dciodvfy", "-new",
                out.resolve("seg.dcm").toString());
        assertThat(seg.output().lines().filter(l -> l.startsWith("Error")).toList()).as(seg.output()).isEmpty();
        assertThat(r.out()).contains(out.resolve("seg.dcm").toString());
        boolean anyPresent = false;
        for (JsonNode f : result.get("findings")) {
            anyPresent |= f.get("present").asBoolean();
        }
        assertThat(Files.exists(out.resolve("kos.dcm"))).as("kos.dcm when a finding is present").isEqualTo(anyPresent);
        if (anyPresent) {
            ExternalCommand.Result kos = ExternalCommand.run(Duration.ofSeconds(60), "dciodvfy", "-new",
                    out.resolve("kos.dcm").toString());
            assertThat(kos.output().lines().filter(l -> l.startsWith("Error")).toList()).as(kos.output()).isEmpty();
        } else {
            assertThat(r.out()).contains("no KOS: no finding called present");
        }
    }

    /** Bad input costs the SEG alone: a series without a Frame of Reference still gets its SR (and KOS). */
    @Test
    void aSeriesWithoutFrameOfReferenceGetsItsSrButNoSegWithTheReason() throws Exception {
        Path study = dir.resolve("study");
        assertThat(CommandLineTest.run("generate", "--out", study.toString(), "--seed", "11", "--matrix", "64",
                "--slices", "48", "--slice-spacing", "5").exitCode()).isZero();
        List<String> strip = new ArrayList<>(List.of("dcmodify", "-nb", "-ea", "(0020,0052)"));
        try (var files = Files.list(study.resolve("dicom"))) {
            files.forEach(f -> strip.add(f.toString()));
        }
        assertThat(ExternalCommand.run(Duration.ofSeconds(60), strip).exitCode()).isZero();
        Path out = dir.resolve("out");
        Files.createDirectories(out);
        Files.writeString(out.resolve("seg.dcm"), "a SEG of an earlier run");
        CommandLineTest.Run r = CommandLineTest.run("analyze", study.resolve("dicom").toString(), "--out", out.toString(),
                "--model", Path.of("..", "models", "ctglip-ref").toString(), "--device", "CPU");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("TRIAGE-0102").contains("no Frame of Reference UID");
        assertThat(out.resolve("seg.dcm")).as("an earlier run's SEG is not left as this result's").doesNotExist();
        ExternalCommand.Result v = ExternalCommand.run(Duration.ofSeconds(60), "dciodvfy", "-new", out.resolve("sr.dcm").toString());
        assertThat(v.output().lines().filter(l -> l.startsWith("Error")).toList()).as(v.output()).isEmpty();
        JsonNode result = new ObjectMapper().readTree(out.resolve("result.json").toFile());
        boolean anyPresent = false;
        for (JsonNode f : result.get("findings")) {
            anyPresent |= f.get("present").asBoolean();
        }
        assertThat(anyPresent).as("this phantom has a finding called present, so a point would be written").isTrue();
        assertThat(out.resolve("kos.dcm")).as("the KOS does not need a frame of reference").exists();
        String dump = ExternalCommand.run(Duration.ofSeconds(60), "dsrdump", out.resolve("sr.dcm").toString()).output();
        assertThat(dump).as("no point without a frame of reference to put it on").doesNotContain("SCOORD3D")
                .doesNotContain("Referenced Segment");
    }

    @Test
    void folderWithoutCtIsRefusedWithCode() throws Exception {
        CommandLineTest.Run r = CommandLineTest.run("analyze", dir.toString(), "--out", dir.resolve("o").toString(),
                "--model", Path.of("..", "models", "ctglip-ref").toString());
        assertThat(r.exitCode()).isEqualTo(CtTriageCommand.EXIT_TRIAGE_FAILURE);
        assertThat(r.err()).startsWith("TRIAGE-0201");
    }
}
