package org.cttriage.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.LoopbackPorts;
import org.cttriage.testdata.junit.RequiresTools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image tar run by a real container runtime (Debian's podman, with runc), in an image store of the test's own:
 * loaded, started with its DICOM and HTTP ports published on 127.0.0.1, ready, its user not root, compose.yaml's health
 * check passing inside it, C-ECHOed, sent a CT study that it triages with the model inside the image, counted in
 * /metrics, its data in the volume, and stopped by SIGTERM with the JVM's clean status.
 */
@RequiresTools({"podman", "runc", "echoscu", "storescu", "dcmdump"})
class ContainerRunTest {
    private static final Duration WAIT = Duration.ofMinutes(3);
    private static final String CONTAINER = "ct-triage-container-run-test";
    private static final Path IMAGE_CONFIG = Distribution.PROJECT.resolve(
            "distribution/src/image/root/etc/ct-triage/ct-triage.conf");

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theImageRunsTheNodeAsItsOwnUserAndStopsCleanly() throws Exception {
        try {
            ExternalCommand.Result load = podman(Duration.ofMinutes(3), "load", "-i", Distribution.IMAGE_TAR.toString());
            assertThat(load.exitCode()).as(load.output()).isZero();
            int dicomPort = LoopbackPorts.free();
            int httpPort = LoopbackPorts.free();
            // The image's own configuration with the test's free-space floor (a few MB, not the 1 GiB a node keeps):
            // readiness must not hang on how full the build machine's disk is (CI's once had 934 MB).
            Path config = dir.resolve("ct-triage.conf");
            Files.writeString(config, Distribution.withValues(Files.readString(IMAGE_CONFIG),
                    Map.of("dicom.min-free-disk-mb", "64")));
            Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));
            // This sandbox's kernel refuses the runtime's default limits (RLIMIT_NOFILE 1048576): ask for less.
            ExternalCommand.Result run = podman(Duration.ofMinutes(1), "run", "-d", "--name", CONTAINER,
                    "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096",
                    "-v", config + ":/etc/ct-triage/ct-triage.conf:ro",
                    "-p", LoopbackPorts.HOST + ":" + dicomPort + ":11112", "-p", LoopbackPorts.HOST + ":" + httpPort + ":8080",
                    "localhost/" + Distribution.IMAGE_NAME);
            assertThat(run.exitCode()).as(run.output()).isZero();
            String base = "http://" + LoopbackPorts.HOST + ":" + httpPort;
            Eventually.await(WAIT, () -> "GET /health/ready 200; container log:\n" + logs(),
                    () -> get(base + "/health/ready").statusCode(), status -> status == 200);

            assertThat(exec("id", "-u").output().strip()).isEqualTo("10001");
            ExternalCommand.Result health = exec("/bin/bash", "-c", composeHealthCheck());
            assertThat(health.exitCode()).as("compose.yaml's health check inside the container: " + health.output()).isZero();

            ExternalCommand.Result echo = ExternalCommand.run(Duration.ofSeconds(30), "echoscu", "-aec", "CTTRIAGE",
                    LoopbackPorts.HOST, Integer.toString(dicomPort));
            assertThat(echo.exitCode()).as(echo.output()).isZero();
            List<Path> files = PhantomSeries.write(31, 64, 24, 10, dir.resolve("ct")).files();
            List<String> store = new ArrayList<>(List.of("storescu", "-aec", "CTTRIAGE", LoopbackPorts.HOST,
                    Integer.toString(dicomPort)));
            files.forEach(f -> store.add(f.toString()));
            ExternalCommand.Result stored = ExternalCommand.run(Duration.ofMinutes(1), store);
            assertThat(stored.exitCode()).as(stored.output()).isZero();

            String metrics = Eventually.await(WAIT, () -> "a result in /metrics; container log:\n" + logs(),
                    () -> get(base + "/metrics").body(), body -> results(body) == 1.0);
            assertThat(InstalledNodeTest.metric(metrics, "cttriage_instances_received_total")).isEqualTo(files.size());
            assertThat(InstalledNodeTest.metric(metrics, "cttriage_series{state=\"triaged\"}")).isEqualTo(1.0);
            // No PACS in the image's configuration: the SR stays in the volume's results/.
            // The image has bash and coreutils, no find: bash's globstar lists the files.
            ExternalCommand.Result srs = files("/var/lib/ct-triage/results/**/*.dcm");
            assertThat(srs.exitCode()).as(srs.output()).isZero();
            List<String> results = srs.output().lines().toList();
            assertThat(results).as(srs.output()).isNotEmpty().allMatch(l -> l.endsWith(".dcm"));
            // One SR, its SEG, and a KOS when a finding is present (read by dcmdump on copies taken out).
            ExternalCommand.Result copied = podman(Duration.ofMinutes(1), "cp", CONTAINER + ":/var/lib/ct-triage/results",
                    dir.resolve("results").toString());
            assertThat(copied.exitCode()).as(copied.output()).isZero();
            List<String> modalities = new ArrayList<>();
            try (Stream<Path> s = Files.walk(dir.resolve("results"))) {
                for (Path f : s.filter(p -> p.toString().endsWith(".dcm")).toList()) {
                    ExternalCommand.Result dump = ExternalCommand.run(Duration.ofSeconds(30), "dcmdump", "+P", "Modality",
                            f.toString());
                    assertThat(dump.exitCode()).as(dump.output()).isZero();
                    modalities.add(dump.output().replaceAll("(?s).*\\[([A-Z]+)\\].*", "$1"));
                }
            }
            assertThat(modalities).hasSize(results.size());
            assertThat(modalities).containsOnlyOnce("SR", "SEG").allMatch(m -> List.of("SR", "SEG", "KO").contains(m));
            assertThat(exec("ls", "/var/lib/ct-triage").output()).contains("db").contains("spool").contains("results");
            // ONNX Runtime loaded from the image's lib/native: no library unpacked into the container's /tmp (the
            // binding still makes an empty folder there, removed when the JVM exits).
            ExternalCommand.Result unpacked = files("/tmp/**/*.so*");
            assertThat(unpacked.exitCode()).as(unpacked.output()).isZero();
            assertThat(unpacked.output()).as("libraries in the container's /tmp").isBlank();

            ExternalCommand.Result stop = podman(Duration.ofSeconds(90), "stop", "-t", "60", CONTAINER);
            assertThat(stop.exitCode()).as(stop.output()).isZero();
            ExternalCommand.Result status = podman(Duration.ofSeconds(30), "inspect", "--format", "{{.State.ExitCode}}",
                    CONTAINER);
            assertThat(status.output().strip()).as(logs()).isEqualTo("143");
            assertThat(logs()).contains("(ct-triage) shutdown in");
        } finally {
            podman(Duration.ofMinutes(1), "rm", "-f", CONTAINER);
            // The store is the test's own: remove every image, container and volume of it, and its mounts.
            podman(Duration.ofMinutes(2), "system", "reset", "--force");
        }
    }

    /** compose.yaml's health check of the node, as the container engine would run it ($$ is compose's escaped $). */
    private static String composeHealthCheck() throws IOException {
        JsonNode test = new YAMLMapper().readTree(Distribution.PROJECT.resolve("deploy/compose/compose.yaml").toFile())
                .get("services").get("ct-triage").get("healthcheck").get("test");
        assertThat(test.get(0).asText()).isEqualTo("CMD");
        assertThat(test.get(1).asText()).isEqualTo("/bin/bash");
        assertThat(test.get(2).asText()).isEqualTo("-c");
        return test.get(3).asText().replace("$$", "$");
    }

    private static double results(String metrics) {
        double sum = 0;
        for (String priority : List.of("routine", "urgent", "asap", "stat")) {
            sum += InstalledNodeTest.metric(metrics, "cttriage_results_total{priority=\"" + priority + "\"}");
        }
        return sum;
    }

    /** The container's files that a bash glob (globstar, dot files too) matches, one a line; none: empty output. */
    private ExternalCommand.Result files(String glob) throws IOException, InterruptedException {
        return exec("/bin/bash", "-c", "shopt -s globstar nullglob dotglob; for f in " + glob + "; do echo \"$f\"; done");
    }

    private ExternalCommand.Result exec(String... command) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("exec", CONTAINER));
        args.addAll(List.of(command));
        return podman(Duration.ofSeconds(30), args.toArray(String[]::new));
    }

    private String logs() {
        try {
            return podman(Duration.ofSeconds(30), "logs", "--tail", "60", CONTAINER).output();
        } catch (IOException | InterruptedException e) {
            return "(no log: " + e + ")";
        }
    }

    private ExternalCommand.Result podman(Duration timeout, String... args) throws IOException, InterruptedException {
        // Runc rather than crun: crun 1.8 refuses this machine's hybrid cgroup hierarchy.
        List<String> command = new ArrayList<>(List.of("podman", "--root", dir.resolve("storage").toString(),
                "--runroot", dir.resolve("run").toString(), "--runtime", "runc"));
        command.addAll(List.of(args));
        return ExternalCommand.run(timeout, command);
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
