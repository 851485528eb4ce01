package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.LoopbackPorts;
import org.cttriage.testdata.junit.RequiresTools;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /health/live} and {@code /health/ready} over real HTTP on a running node: every check UP when idle, a pending
 * delivery that is not yet stuck still ready, one past {@code health.stuck-delivery} makes it 503 naming the check,
 * and so does a database that stops answering; {@code /metrics} counts what was sent and decided. No patient data in
 * any answer.
 */
@RequiresTools({"storescu", "echoscu", "promtool"})
class NodeHealthTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static InferenceEngine engine;
    private static ExecutorService pool;

    @TempDir
    Path dir;

    private JdbcConnectionPool dataSource;
    private TriageNode node;
    private NodeHttpServer http;
    private NodeMetrics metrics;
    private org.cttriage.plugin.web.WorklistApi worklist;
    private final AtomicReference<NodeHealth> health = new AtomicReference<>();
    private final HttpClient client = HttpClient.newHttpClient();

    @BeforeAll
    static void openEngine() throws Exception {
        engine = SharedEngine.cpu();
        pool = SharedEngine.pool();
    }

    @BeforeEach
    void start() throws Exception {
        dataSource = NodeDatabaseFiles.open(dir.resolve("node"));
        // The PACS is down: nothing listens on its port, so the SR delivery stays pending.
        int pacsPort = LoopbackPorts.free();
        metrics = new NodeMetrics(Clock.systemUTC());
        node = TriageNode.start(TriageNode.Config.defaults("CTTRIAGE", 0, dir.resolve("node"),
                        List.of(Destination.dicom("pacs", new RemoteAe("PACS", "127.0.0.1", pacsPort))))
                        .withQuietPeriod(Duration.ofSeconds(1)),
                dataSource, engine, SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool, Optional.empty(),
                Clock.systemUTC(), metrics.observers());
        metrics.bind(node);
        health.set(new NodeHealth(node, engine, Duration.ofHours(1), Clock.systemUTC()));
        metrics.bindHealth(() -> health.get().ready());
        // Routine studies are overdue at once here, so that the worklist's metric and announcement show.
        worklist = new org.cttriage.plugin.web.WorklistApi(node.database(), node.ledger(),
                new org.cttriage.plugin.web.Users(node.database(), Clock.systemUTC()),
                java.util.Map.of(org.cttriage.core.domain.Priority.ROUTINE, Duration.ZERO), Duration.ofHours(1),
                Clock.systemUTC());
        metrics.bindWorklist(worklist::overdueCount);
        http = NodeHttpServer.start(new InetSocketAddress("127.0.0.1", 0), () -> health.get().ready(), metrics::scrape,
                () -> new NodeStatus(node, health.get(), Clock.systemUTC()).now());
    }

    @AfterEach
    void stop() {
        worklist.close();
        http.close();
        node.close();
        dataSource.dispose();
    }

    @Test
    void readyUntilADeliveryIsStuckOrTheDatabaseStopsAnswering() throws Exception {
        HttpResponse<String> live = get("/health/live");
        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(live.body()).get("status").asText()).isEqualTo("UP");

        HttpResponse<String> idle = get("/health/ready");
        assertThat(idle.statusCode()).as(idle.body()).isEqualTo(200);
        JsonNode checks = JSON.readTree(idle.body()).get("checks");
        assertThat(names(checks)).containsExactly("database", "dicom-listener", "model", "disk", "deliveries");
        assertThat(checks.findValuesAsText("status")).containsOnly("UP");
        assertThat(check(checks, "dicom-listener").get("detail").asText()).endsWith(":" + node.port());
        assertThat(check(checks, "deliveries").get("detail").asText()).isEqualTo("0 pending, 0 dead letter(s)");
        assertThat(idle.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");

        // A study arrives; the PACS refuses, so its SR delivery waits in the ledger.
        List<Path> files = PhantomSeries.write(21, 64, 20, 10, dir.resolve("ct")).files();
        List<String> command = new ArrayList<>(Arrays.asList("storescu", "-aet", "STORESCU", "-aec", "CTTRIAGE",
                "127.0.0.1", Integer.toString(node.port())));
        files.forEach(f -> command.add(f.toString()));
        assertThat(ExternalCommand.run(Duration.ofSeconds(60), command).exitCode()).isZero();
        Eventually.await(WAIT, "a failed attempt", () -> node.ledger().inState(DeliveryState.PENDING),
                l -> l.size() == 1 && l.get(0).attempts() >= 1);
        // A caller that asks for an AE title that is not ours is rejected.
        assertThat(ExternalCommand.run(Duration.ofSeconds(30), List.of("echoscu", "-aet", "STORESCU", "-aec", "NOTUS",
                "127.0.0.1", Integer.toString(node.port()))).exitCode()).isNotZero();

        HttpResponse<String> waiting = get("/health/ready");
        assertThat(waiting.statusCode()).as(waiting.body()).isEqualTo(200);
        assertThat(check(JSON.readTree(waiting.body()).get("checks"), "deliveries").get("detail").asText())
                .startsWith("1 pending, 0 dead letter(s); the oldest pending since ");

        // Two hours later (the health check's clock), the same delivery is stuck: 503, naming the check.
        health.set(new NodeHealth(node, engine, Duration.ofHours(1), Clock.offset(Clock.systemUTC(), Duration.ofHours(2))));
        HttpResponse<String> stuck = get("/health/ready");
        assertThat(stuck.statusCode()).isEqualTo(503);
        JsonNode stuckBody = JSON.readTree(stuck.body());
        assertThat(stuckBody.get("status").asText()).isEqualTo("DOWN");
        assertThat(check(stuckBody.get("checks"), "deliveries").get("status").asText()).isEqualTo("DOWN");
        assertThat(check(stuckBody.get("checks"), "deliveries").get("detail").asText()).contains("health.stuck-delivery");
        assertThat(check(stuckBody.get("checks"), "database").get("status").asText()).isEqualTo("UP");

        // Metrics, read from the database: what was sent, what was decided, what waits.
        HttpResponse<String> scrape = Eventually.await(WAIT, "metrics showing the study", () -> get("/metrics"),
                r -> r.body().contains("cttriage_instances_received_total " + files.size() + ".0"));
        assertThat(scrape.statusCode()).isEqualTo(200);
        assertThat(scrape.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        long bytes = 0;
        for (Path f : files) {
            bytes += java.nio.file.Files.size(f);
        }
        assertThat(metric(scrape.body(), "cttriage_received_bytes_total")).isBetween(bytes * 0.9, bytes * 1.1);
        String pacs = "destination=\"pacs\",kind=\"dicom-sr\"";
        assertThat(scrape.body())
                .contains("cttriage_series{state=\"triaged\"} 1.0")
                .contains("cttriage_series{state=\"receiving\"} 0.0")
                .contains("cttriage_deliveries{" + pacs + ",state=\"pending\"} 1.0")
                .contains("cttriage_deliveries{" + pacs + ",state=\"delivered\"} 0.0")
                .contains("cttriage_database_up 1.0")
                // What this process counted as it happened: one association, one C-STORE answer per file...
                .contains("cttriage_associations_accepted_total 1.0")
                .contains("cttriage_associations_rejected_total{reason=\"called_ae_not_recognized\"} 1.0")
                .contains("cttriage_associations_rejected_total{reason=\"calling_ae_not_recognized\"} 0.0")
                .contains("cttriage_cstore_responses_total{code=\"0000H\",status=\"success\"} " + files.size() + ".0")
                .contains("cttriage_cstore_responses_total{code=\"A700H\",status=\"refused_out_of_resources\"} 0.0")
                .contains("cttriage_associations_active 0.0")
                .contains("cttriage_triage_queue_depth 0.0")
                // ...one triage, its latency at least the quiet period, and the refused SR's attempts and lane.
                .contains("cttriage_triage_latency_seconds_count 1")
                .contains("cttriage_inference_duration_seconds_count 1")
                .contains("cttriage_triage_latency_seconds_bucket{le=\"+Inf\"} 1")
                .contains("cttriage_delivery_lane_depth{" + pacs + "}")
                .contains("cttriage_delivery_attempt_duration_seconds_count{kind=\"dicom-sr\"}")
                // Camel's route metrics on the same registry.
                .containsPattern("camel_exchanges_total\\{[^}]*route_id=\"dicom-ingest\"")
                // The readiness checks as gauges, for the alert rules: the stuck delivery is down.
                .contains("cttriage_ready 0.0")
                .contains("cttriage_health_check{check=\"deliveries\"} 0.0")
                .contains("cttriage_health_check{check=\"database\"} 1.0")
                // The study is routine and new: overdue at once in this node.
                .contains("cttriage_worklist_overdue 1.0")
                .contains("# TYPE cttriage_results_total counter")
                .contains("jvm_memory_used_bytes").contains("process_uptime_seconds");
        assertThat(metric(scrape.body(), "cttriage_delivery_oldest_pending_age_seconds")).isGreaterThan(0.0);
        double results = 0;
        for (String p : List.of("routine", "urgent", "asap", "stat")) {
            results += metric(scrape.body(), "cttriage_results_total{priority=\"" + p + "\"}");
        }
        assertThat(results).isEqualTo(1.0);
        assertThat(metric(scrape.body(), "cttriage_triage_latency_seconds_sum")).isGreaterThanOrEqualTo(1.0);
        assertThat(metric(scrape.body(), "cttriage_inference_duration_seconds_sum")).isGreaterThan(0.0);
        assertThat(metric(scrape.body(), "cttriage_delivery_attempts_total{" + pacs + ",outcome=\"retry\"}"))
                .isGreaterThanOrEqualTo(1.0);

        assertThat(worklist.announceOverdue()).as("announced on the event stream once").isEqualTo(1);
        assertThat(worklist.announceOverdue()).isZero();
        // Prometheus' own lint finds nothing in our meters or Camel's (Micrometer's JVM/process names are its own).
        Path exposition = dir.resolve("scrape.txt");
        java.nio.file.Files.writeString(exposition, scrape.body());
        ExternalCommand.Result lint = ExternalCommand.run(Duration.ofSeconds(30), List.of("sh", "-c",
                "promtool check metrics < '" + exposition + "'"));
        assertThat(lint.output().lines().filter(l -> l.startsWith("cttriage_") || l.startsWith("camel_")))
                .as(lint.output()).isEmpty();
        // Every metric the shipped alert rules use is one this node exposes.
        String rules = java.nio.file.Files.readString(PrometheusDeployTest.DEPLOY.resolve("ct-triage-alerts.yml"));
        java.util.regex.Matcher used = java.util.regex.Pattern.compile("cttriage_[a-z_]+").matcher(rules);
        while (used.find()) {
            assertThat(scrape.body()).as("alert rules use %s", used.group()).containsPattern(
                    "(?m)^" + used.group() + "(_bucket|_count|_sum)?[{ ]");
        }

        // No patient data in what anyone on the network may read.
        AttributeList header = new AttributeList();
        header.read(files.get(0).toString());
        for (String value : List.of(header.get(TagFromName.PatientName).getSingleStringValueOrEmptyString(),
                header.get(TagFromName.PatientID).getSingleStringValueOrEmptyString())) {
            assertThat(value).isNotEmpty();
            assertThat(stuck.body()).doesNotContain(value);
            assertThat(scrape.body()).doesNotContain(value);
        }

        // ct-triage status, for an operator on the command line: the same figures, and the result without identifiers.
        java.io.StringWriter printed = new java.io.StringWriter();
        picocli.CommandLine cli = org.cttriage.plugin.cli.CtTriageCommand.newCommandLine();
        cli.setOut(new java.io.PrintWriter(printed));
        int exit = cli.execute("status", "--url", "http://127.0.0.1:" + http.port());
        String status = printed.toString();
        assertThat(exit).as(status).isEqualTo(1);
        assertThat(status).contains(": NOT READY")
                .containsPattern("deliveries\\s+DOWN .*health.stuck-delivery")
                .containsPattern("DICOM CTTRIAGE on port " + node.port() + ", 0 association\\(s\\) open")
                .containsPattern("deliveries pending\\s+1")
                .containsPattern("dead letters\\s+0")
                .containsPattern("associations\\s+1 accepted, 1 rejected")
                .containsPattern("C-STORE responses\\s+" + files.size() + " success, 0 refused or failed")
                .containsPattern("studies triaged\\s+1, latency mean")
                .containsPattern("(?m)^  \\d{4}-\\d\\d-\\d\\dT\\S+Z  routine .*; pacs pending$");
        JsonNode statusJson = JSON.readTree(get("/status").body());
        assertThat(statusJson.get("recentResults")).hasSize(1);
        assertThat(statusJson.get("recentResults").get(0).get("deliveries").get("pacs").asText()).isEqualTo("pending");
        assertThat(get("/status").body()).doesNotContain(files.isEmpty() ? "" : header.get(TagFromName.StudyInstanceUID)
                .getSingleStringValueOrEmptyString());
        assertThat(cli.execute("status", "--url", "http://127.0.0.1:" + LoopbackPorts.free())).isEqualTo(3);

        // The database stops answering.
        health.set(new NodeHealth(node, engine, Duration.ofHours(1), Clock.systemUTC()));
        dataSource.dispose();
        HttpResponse<String> noDatabase = get("/health/ready");
        assertThat(noDatabase.statusCode()).isEqualTo(503);
        assertThat(check(JSON.readTree(noDatabase.body()).get("checks"), "database").get("detail").asText())
                .startsWith("TRIAGE-0609");
        // Liveness is the process, not its dependencies.
        assertThat(get("/health/live").statusCode()).isEqualTo(200);
    }

    @Test
    void onlyGetAndHeadOnKnownPaths() throws Exception {
        HttpResponse<String> post = client.send(HttpRequest.newBuilder(uri("/health/ready"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
        assertThat(get("/metrics/nope").statusCode()).isEqualTo(404);
        HttpResponse<String> head = client.send(HttpRequest.newBuilder(uri("/health/live"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The value of the sample named exactly {@code name} (with its labels) in a Prometheus text exposition. */
    private static double metric(String exposition, String name) {
        return exposition.lines().filter(l -> l.startsWith(name + " ")).findFirst()
                .map(l -> Double.parseDouble(l.substring(name.length() + 1).trim()))
                .orElseThrow(() -> new AssertionError("no sample " + name + " in\n" + exposition));
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + http.port() + path);
    }

    private static List<String> names(JsonNode checks) {
        List<String> names = new ArrayList<>();
        checks.forEach(c -> names.add(c.get("name").asText()));
        return names;
    }

    private static JsonNode check(JsonNode checks, String name) {
        for (JsonNode c : checks) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no check " + name + " in " + checks);
    }
}
