package org.cttriage.plugin.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

class CommandLineTest {
    @TempDir
    Path dir;

    record Run(int exitCode, String out, String err) {
    }

    static Run run(String... args) {
        CommandLine cli = CtTriageCommand.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int rc = cli.execute(args);
        return new Run(rc, out.toString(), err.toString());
    }

    /** Every subcommand, nested ones included, as the command tree has them (none can be forgotten). */
    static Stream<CommandLine> subcommands() {
        List<CommandLine> all = new ArrayList<>();
        collect(CtTriageCommand.newCommandLine(), all);
        return all.stream().filter(c -> c.getParent() != null && !"help".equals(c.getCommandName()));
    }

    private static void collect(CommandLine c, List<CommandLine> into) {
        into.add(c);
        c.getSubcommands().values().forEach(sub -> collect(sub, into));
    }

    @ParameterizedTest
    @MethodSource("subcommands")
    void everySubcommandExplainsEveryOption(CommandLine command) {
        String name = command.getCommandSpec().qualifiedName(" ");
        Run r = run((name.replaceFirst("^ct-triage ", "") + " --help").split(" "));
        assertThat(r.exitCode()).as(name).isZero();
        for (CommandLine.Model.OptionSpec o : command.getCommandSpec().options()) {
            assertThat(o.description()).as("%s %s has a description", name, o.longestName()).isNotEmpty();
            // Negatable options print as --[no-]name, so look for the name without its dashes.
            assertThat(r.out()).contains(o.longestName().replaceFirst("^-+", ""));
        }
        for (CommandLine.Model.PositionalParamSpec p : command.getCommandSpec().positionalParameters()) {
            assertThat(p.description()).as("%s %s has a description", name, p.paramLabel()).isNotEmpty();
        }
    }

    @Test
    void theNodesCommandsAreRegistered() {
        assertThat(subcommands().map(c -> c.getCommandSpec().qualifiedName(" "))).contains("ct-triage serve",
                "ct-triage echo", "ct-triage dead-letters", "ct-triage studies")
                // One dead-letters command for every kind of delivery.
                .doesNotContain("ct-triage fhir-dead-letters");
    }

    @Test
    void generateThenInspectAsJson() throws Exception {
        Path out = dir.resolve("study");
        Run g = run("generate", "--out", out.toString(), "--seed", "3", "--matrix", "64", "--slices", "30",
                "--slice-spacing", "5", "--findings", "liver_cyst,nephrolithiasis");
        assertThat(g.exitCode()).as(g.err()).isZero();
        assertThat(out.resolve("truth.json")).exists();
        assertThat(out.resolve("labels.npy")).exists();
        assertThat(out.resolve("findings.npy")).exists();
        try (Stream<Path> s = Files.list(out.resolve("dicom"))) {
            assertThat(s.count()).isEqualTo(30);
        }
        JsonNode truth = new ObjectMapper().readTree(out.resolve("truth.json").toFile());
        assertThat(truth.get("findings").findValuesAsText("id")).contains("liver_cyst", "nephrolithiasis");

        Run i = run("inspect", out.resolve("dicom").toString(), "--json");
        assertThat(i.exitCode()).as(i.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(i.out());
        assertThat(report.get("series")).hasSize(1);
        assertThat(report.get("series").get(0).get("verdict").asText()).isEqualTo("selected");
        assertThat(report.get("volume").get("size").toString()).isEqualTo("[64,64,30]");
        assertThat(report.get("volume").get("studyInstanceUid").asText()).isEqualTo(truth.get("studyInstanceUid").asText());
        assertThat(report.get("error").isNull()).isTrue();
    }

    @Test
    void inspectExplainsWhyNothingQualifies() throws Exception {
        Path out = dir.resolve("short");
        assertThat(run("generate", "--out", out.toString(), "--matrix", "64", "--slices", "5").exitCode()).isZero();
        Run text = run("inspect", out.resolve("dicom").toString());
        assertThat(text.exitCode()).isEqualTo(CtTriageCommand.EXIT_TRIAGE_FAILURE);
        assertThat(text.out()).contains("REJECTED").contains("TRIAGE-0206").contains("5 slices")
                .contains("No volume: TRIAGE-0201");
        Run json = run("inspect", out.resolve("dicom").toString(), "--json", "--min-slices", "5");
        assertThat(json.exitCode()).isZero();
    }

    @Test
    void trainingArraysFastPath() throws Exception {
        Run r = run("generate", "--out", dir.toString(), "--training-arrays", "--cases", "2", "--matrix", "64",
                "--slices", "16", "--slice-spacing", "10", "--random");
        assertThat(r.exitCode()).as(r.err()).isZero();
        for (String c : List.of("case-00000", "case-00001")) {
            for (String f : List.of("image.npy", "labels.npy", "findings.npy", "truth.json")) {
                assertThat(dir.resolve(c).resolve(f)).exists();
            }
        }
        assertThat(dir.resolve("case-00000").resolve("dicom")).doesNotExist();
        // int16 image: 64 × 64 × 16 voxels × 2 bytes after a 128-byte .npy header.
        assertThat(Files.size(dir.resolve("case-00000").resolve("image.npy"))).isEqualTo(128 + 64 * 64 * 16 * 2);
    }

    @Test
    void badOptionsAreUsageErrorsNamingTheOption() {
        Run r = run("generate", "--out", dir.toString(), "--matrix", "1000");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--matrix must be within 64..512");
        Run f = run("generate", "--out", dir.toString(), "--findings", "broken_heart");
        assertThat(f.exitCode()).isEqualTo(2);
        assertThat(f.err()).contains("broken_heart");
    }
}
