package org.cttriage.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.LoopbackPorts;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The archive installed as an operator would: unpacked into a fresh prefix and run from there with an environment whose
 * PATH holds only {@code java} (no Maven, no source tree, no bin/setup). Its example configuration, with this test's
 * addresses, passes {@code config check}; {@code serve} becomes ready, answers C-ECHO, triages a generated CT study sent
 * with storescu and delivers the SR to a storescp PACS; {@code /metrics} counts what was sent; SIGTERM stops it cleanly.
 */
@RequiresTools({"tar", "echoscu", "storescu", "storescp"})
class InstalledNodeTest {
    /** The PACS destination's deliveries (its name is its AE title in lower case) in the /metrics exposition. */
    private static final String PACS_DELIVERIES = "cttriage_deliveries{destination=\"pacs\",kind=\"dicom-sr\"";

    private static final Duration WAIT = Duration.ofMinutes(3);
    private static final Pattern HEALTH_URL = Pattern.compile("health: (http://127\\.0\\.0\\.1:\\d+)/health/ready");

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void installedNodeServesTriagesAndStopsWithOnlyJavaOnThePath() throws Exception {
        Path prefix = Distribution.unpack(dir.resolve("opt"));
        assertShipsWhatANodeNeedsAndNoTestLibrary(prefix);
        Path javaOnly = Files.createDirectories(dir.resolve("java-only"));
        Files.createSymbolicLink(javaOnly.resolve("java"), Path.of(System.getProperty("java.home"), "bin", "java"));
        Path launcher = prefix.resolve("bin/ct-triage");

        ExternalCommand.Result version = run(javaOnly, launcher.toString(), "--version");
        assertThat(version.exitCode()).as(version.output()).isZero();
        assertThat(version.output()).contains("ct-triage");

        try (StoreScp pacs = StoreScp.start("PACS", dir.resolve("pacs"))) {
            int dicomPort = LoopbackPorts.free();
            Map<String, String> ours = new LinkedHashMap<>();
            ours.put("node.data-dir", dir.resolve("data").toString());
            ours.put("dicom.bind-address", "127.0.0.1");
            ours.put("dicom.port", Integer.toString(dicomPort));
            ours.put("dicom.allowed-calling-aets", "PACS");
            ours.put("delivery.dicom-destinations", "PACS@" + pacs.host() + ":" + pacs.port());
            ours.put("http.port", "0");
            ours.put("assembly.quiet-period", "1s");
            // The test's few MB, not the 1 GiB an installed node keeps free: readiness must not hang on how full the
            // build machine's disk is (CI's once had 934 MB: config check failed and the node never became ready).
            ours.put("dicom.min-free-disk-mb", "64");
            // The shipped example, every comment kept, with this test's addresses.
            Path config = dir.resolve("ct-triage.conf");
            Files.writeString(config, Distribution.withValues(Files.readString(prefix.resolve("etc/ct-triage.conf")), ours));

            ExternalCommand.Result check = run(javaOnly, launcher.toString(), "config", "check", config.toString());
            assertThat(check.exitCode()).as(check.output()).isZero();
            assertThat(check.output()).contains("ok    model: ctglip-ref").contains(config + ": valid")
                    .doesNotContain("FAIL");

            Path log = dir.resolve("serve.log");
            long started = System.nanoTime();
            Process node = environment(new ProcessBuilder(launcher.toString(), "serve", "--config", config.toString()),
                    javaOnly).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                String base = Eventually.await(WAIT, () -> "the health URL in the log:\n" + tail(log), () -> {
                    if (!node.isAlive()) {
                        throw new IllegalStateException("serve exited " + node.exitValue() + ":\n" + tail(log));
                    }
                    Matcher m = HEALTH_URL.matcher(Files.readString(log));
                    return m.find() ? m.group(1) : null;
                }, url -> url != null);
                Eventually.await(WAIT, () -> "GET /health/ready 200; log:\n" + tail(log),
                        () -> get(base + "/health/ready").statusCode(), status -> status == 200);
                System.out.printf("installed node: serve ready in %d ms%n", (System.nanoTime() - started) / 1_000_000);

                ExternalCommand.Result echo = ExternalCommand.run(Duration.ofSeconds(30), "echoscu", "-aet", "PACS",
                        "-aec", "CTTRIAGE", LoopbackPorts.HOST, Integer.toString(dicomPort));
                assertThat(echo.exitCode()).as(echo.output()).isZero();

                // A study made by the installed generate command, sent as a PACS would.
                Path study = dir.resolve("study");
                ExternalCommand.Result generate = run(javaOnly, launcher.toString(), "generate", "--out", study.toString(),
                        "--seed", "14", "--matrix", "64", "--slices", "24", "--slice-spacing", "10");
                assertThat(generate.exitCode()).as(generate.output()).isZero();
                List<Path> files;
                try (Stream<Path> s = Files.list(study.resolve("dicom"))) {
                    files = s.filter(p -> p.toString().endsWith(".dcm")).sorted().toList();
                }
                assertThat(files).hasSize(24);
                List<String> store = new ArrayList<>(List.of("storescu", "-aet", "PACS", "-aec", "CTTRIAGE",
                        LoopbackPorts.HOST, Integer.toString(dicomPort)));
                files.forEach(f -> store.add(f.toString()));
                ExternalCommand.Result stored = ExternalCommand.run(Duration.ofMinutes(1), store);
                assertThat(stored.exitCode()).as(stored.output()).isZero();

                // With the SR come its SEG (and a KOS when a finding is present): wait for the SR.
                Eventually.await(WAIT, () -> "the SR at the PACS; node log:\n" + tail(log), pacs::receivedFiles,
                        received -> received.stream().anyMatch(p -> p.getFileName().toString().startsWith("SR")));
                String metrics = Eventually.await(WAIT, () -> "the delivery in /metrics; log:\n" + tail(log),
                        () -> get(base + "/metrics").body(),
                        body -> body.contains(PACS_DELIVERIES + ",state=\"delivered\"} 1.0"));
                long bytes = 0;
                for (Path f : files) {
                    bytes += Files.size(f);
                }
                assertThat(metric(metrics, "cttriage_instances_received_total")).isEqualTo(files.size());
                assertThat(metric(metrics, "cttriage_received_bytes_total")).isBetween(bytes * 0.9, bytes * 1.1);
                assertThat(metric(metrics, "cttriage_series{state=\"triaged\"}")).isEqualTo(1.0);
                assertThat(metric(metrics, PACS_DELIVERIES + ",state=\"pending\"}")).isZero();
                assertThat(metric(metrics, PACS_DELIVERIES + ",state=\"dead\"}")).isZero();
                double results = 0;
                for (String priority : List.of("routine", "urgent", "asap", "stat")) {
                    results += metric(metrics, "cttriage_results_total{priority=\"" + priority + "\"}");
                }
                assertThat(results).isEqualTo(1.0);
                assertThat(Files.readString(log)).contains("destinations: [PACS@127.0.0.1:" + pacs.port());

                // SIGTERM: the shutdown hook closes the node; the JVM's status for it is 143 (the unit's SuccessExitStatus).
                node.destroy();
                assertThat(node.waitFor(60, TimeUnit.SECONDS)).as("stopped within 60 s; log:\n" + tail(log)).isTrue();
                assertThat(node.exitValue()).as(tail(log)).isEqualTo(143);
                assertThat(Files.readString(log)).contains("Apache Camel").contains("(ct-triage) shutdown in");

                // ONNX Runtime loaded from lib/native: no copy of its libraries unpacked into the JVMs' temporary
                // folder by this serve or by the commands before it (the binding alone leaves 22 MB a start there).
                try (Stream<Path> s = Files.list(jvmTmp())) {
                    assertThat(s.map(p -> p.getFileName().toString()).toList())
                            .noneMatch(name -> name.startsWith("onnxruntime") || name.startsWith("ct-triage-onnxruntime"));
                }
            } finally {
                if (node.isAlive()) {
                    node.destroyForcibly().waitFor();
                }
            }
        } finally {
            Files.deleteIfExists(javaOnly.resolve("java"));
        }
    }

    /** Launcher, jar, libraries, the model as loaded, the operator's files; no test library, no training script. */
    private static void assertShipsWhatANodeNeedsAndNoTestLibrary(Path prefix) throws IOException {
        assertThat(Files.getPosixFilePermissions(prefix.resolve("bin/ct-triage"))).contains(PosixFilePermission.OWNER_EXECUTE,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_EXECUTE);
        for (String file : List.of("lib/ct-triage.jar", "etc/ct-triage.conf", "systemd/ct-triage.service", "README.md",
                "models/ctglip-ref/manifest.json", "models/ctglip-ref/dictionary.json", "models/ctglip-ref/vocabulary.txt",
                "models/ctglip-ref/image_encoder.onnx", "models/ctglip-ref/text_encoder.onnx",
                "models/ctglip-ref/MODEL_CARD.md", "models/ctglip-ref-v2/manifest.json", "models/ctglip-ref-v2/organ-crops.json",
                "models/ctglip-ref-v2/crop_encoder_gallbladder.onnx", "docs/configuration.md", "docs/operations.md")) {
            assertThat(prefix.resolve(file)).as(file).isRegularFile();
        }
        assertThat(prefix.resolve("models/ctglip-ref/train.py")).doesNotExist();
        assertThat(prefix.resolve("models/ctglip-ref/experiments")).doesNotExist();
        for (String platform : List.of("linux-x64", "linux-aarch64")) {
            for (String library : List.of("libonnxruntime.so", "libonnxruntime4j_jni.so")) {
                assertThat(prefix.resolve("lib/native").resolve(platform).resolve(library)).isRegularFile();
            }
        }
        List<String> jars;
        try (Stream<Path> s = Files.list(prefix.resolve("lib"))) {
            jars = s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertThat(jars).hasSizeGreaterThan(50).allMatch(j -> j.endsWith(".jar"));
        assertThat(jars).noneMatch(j -> j.startsWith("junit") || j.startsWith("assertj") || j.startsWith("wiremock")
                || j.startsWith("archunit") || j.startsWith("opentest4j") || j.startsWith("ct-triage-test-support"));
    }

    private ExternalCommand.Result run(Path javaOnly, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "command", ".log");
        Process p = environment(new ProcessBuilder(command), javaOnly).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly().waitFor();
            throw new IOException(String.join(" ", command) + " did not finish within 2 minutes");
        }
        return new ExternalCommand.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    }

    /** An operator's machine with a Java runtime and nothing of the build: PATH is that one folder. */
    /** The installed commands' java.io.tmpdir (CT_TRIAGE_JAVA_OPTS), the test's own to look into. */
    private Path jvmTmp() throws IOException {
        return Files.createDirectories(dir.resolve("jvm-tmp"));
    }

    private ProcessBuilder environment(ProcessBuilder builder, Path javaOnly) throws IOException {
        Map<String, String> env = builder.environment();
        env.clear();
        env.put("PATH", javaOnly.toString());
        env.put("HOME", dir.toString());
        env.put("CT_TRIAGE_JAVA_OPTS", "-Djava.io.tmpdir=" + jvmTmp());
        return builder.directory(dir.toFile());
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static double metric(String body, String name) {
        return body.lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l -> Double.parseDouble(
                l.substring(name.length() + 1).strip())).findFirst()
                .orElseThrow(() -> new AssertionError("no metric " + name + " in:\n" + body));
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
