package org.cttriage.plugin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.plugin.node.NodeSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ct-triage status}: the running node's readiness, queues and recent results, read from its HTTP server
 * ({@code /status} and {@code /metrics}), for an operator on the command line. Exit 0 when the node is ready, 1 when it
 * answers but is not ready, 3 when it does not answer.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Print the running node's health, queues and recent results (from its HTTP server).")
public final class StatusCommand implements Callable<Integer> {
    static final int EXIT_NOT_READY = 1;
    static final int EXIT_UNREACHABLE = 3;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SAMPLE = Pattern.compile("^([a-z_]+)(\\{([^}]*)\\})? (\\S+)$");

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE",
            description = "The node's configuration: its http.bind-address and http.port say where to ask.")
    Path config;

    @Option(names = "--url", paramLabel = "URL",
            description = "The node's HTTP server (default: from --config, else http://127.0.0.1:8080).")
    URI url;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        URI base;
        try {
            base = base();
        } catch (TriageException e) {
            err.println(e.getMessage());
            return 2;
        }
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        JsonNode status;
        String metrics;
        try {
            status = JSON.readTree(get(client, base.resolve("/status")));
            metrics = get(client, base.resolve("/metrics"));
        } catch (IOException e) {
            err.println(ErrorCode.CONFIGURATION_INVALID.code() + " the node does not answer at " + base + ": " + e);
            return EXIT_UNREACHABLE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return EXIT_UNREACHABLE;
        }
        print(out, base, status, Samples.parse(metrics));
        out.flush();
        return "UP".equals(status.path("health").path("status").asText()) ? 0 : EXIT_NOT_READY;
    }

    private URI base() throws TriageException {
        if (url != null) {
            return url;
        }
        if (config == null) {
            return URI.create("http://127.0.0.1:8080");
        }
        InetSocketAddress address = NodeSettings.load(config, Path.of(System.getProperty("ct-triage.home", ".")))
                .httpAddress();
        String host = address.getAddress().isAnyLocalAddress() ? "127.0.0.1" : address.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return URI.create("http://" + host + ":" + address.getPort());
    }

    private static String get(HttpClient client, URI uri) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + uri.getPath() + " answered " + r.statusCode());
        }
        return r.body();
    }

    static void print(PrintWriter out, URI base, JsonNode status, Samples m) {
        JsonNode health = status.path("health");
        out.printf("ct-triage %s at %s: %s%n", status.path("version").asText(), base,
                "UP".equals(health.path("status").asText()) ? "READY" : "NOT READY");
        out.printf("DICOM %s on port %d, %d association(s) open%n", status.path("dicom").path("aeTitle").asText(),
                status.path("dicom").path("port").asInt(), status.path("dicom").path("activeAssociations").asInt());
        out.println();
        out.println("Checks");
        for (JsonNode c : health.path("checks")) {
            out.printf("  %-15s %-4s %s%n", c.path("name").asText(), c.path("status").asText(),
                    c.path("detail").asText());
        }
        out.println();
        out.println("Queues");
        out.printf("  %-36s %d%n", "series assembling (quiet period)", (long) m.sum("cttriage_series", "state", "receiving"));
        out.printf("  %-36s %d%n", "studies waiting for triage", status.path("queues").path("waitingForTriage").asLong());
        Map<String, Double> pending = m.by("cttriage_deliveries", "destination", "state", "pending");
        Map<String, Double> dead = m.by("cttriage_deliveries", "destination", "state", "dead");
        out.printf("  %-36s %d%s%n", "deliveries pending", (long) m.sum("cttriage_deliveries", "state", "pending"),
                perDestination(pending));
        out.printf("  %-36s %d%s%n", "dead letters", (long) m.sum("cttriage_deliveries", "state", "dead"),
                perDestination(dead));
        out.printf("  %-36s %.0f s%n", "oldest pending delivery waiting",
                m.sum("cttriage_delivery_oldest_pending_age_seconds", null, null));
        out.println();
        out.println("Since the node started");
        out.printf("  %-36s %d accepted, %d rejected%n", "associations",
                (long) m.sum("cttriage_associations_accepted_total", null, null),
                (long) m.sum("cttriage_associations_rejected_total", null, null));
        out.printf("  %-36s %d success, %d refused or failed%n", "C-STORE responses",
                (long) m.sum("cttriage_cstore_responses_total", "status", "success"),
                (long) (m.sum("cttriage_cstore_responses_total", null, null)
                        - m.sum("cttriage_cstore_responses_total", "status", "success")));
        double triaged = m.sum("cttriage_triage_latency_seconds_count", null, null);
        out.printf("  %-36s %d%s%n", "studies triaged", (long) triaged, triaged == 0 ? "" : String.format(
                ", latency mean %.1f s, inference mean %.2f s",
                m.sum("cttriage_triage_latency_seconds_sum", null, null) / triaged,
                m.sum("cttriage_inference_duration_seconds_sum", null, null)
                        / Math.max(1, m.sum("cttriage_inference_duration_seconds_count", null, null))));
        out.println();
        out.println("Recent results (newest first; study details: ct-triage studies list, on the node)");
        if (status.path("recentResults").isEmpty()) {
            out.println("  none yet");
        }
        for (JsonNode r : status.path("recentResults")) {
            List<String> findings = new ArrayList<>();
            r.path("findingsPresent").forEach(f -> findings.add(f.asText()));
            List<String> deliveries = new ArrayList<>();
            r.path("deliveries").fields().forEachRemaining(d -> deliveries.add(d.getKey() + " " + d.getValue().asText()));
            out.printf("  %s  %-8s %s%s%s%n", r.path("recorded").asText(), r.path("priority").asText(),
                    findings.isEmpty() ? "no finding present" : String.join(", ", findings),
                    deliveries.isEmpty() ? "" : "; " + String.join(", ", deliveries),
                    r.path("superseded").asBoolean() ? " (superseded)" : "");
        }
    }

    private static String perDestination(Map<String, Double> counts) {
        if (counts.size() < 2) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        counts.forEach((d, n) -> parts.add(d + " " + n.longValue()));
        return " (" + String.join(", ", parts) + ")";
    }

    /** The samples of a Prometheus text exposition. */
    record Samples(List<Sample> samples) {
        record Sample(String name, Map<String, String> labels, double value) {
        }

        static Samples parse(String exposition) {
            List<Sample> samples = new ArrayList<>();
            for (String line : exposition.split("\n")) {
                Matcher m = SAMPLE.matcher(line.trim());
                if (line.startsWith("#") || !m.matches()) {
                    continue;
                }
                Map<String, String> labels = new LinkedHashMap<>();
                if (m.group(3) != null) {
                    for (String pair : m.group(3).split(",")) {
                        int eq = pair.indexOf('=');
                        if (eq > 0) {
                            labels.put(pair.substring(0, eq), pair.substring(eq + 1).replace("\"", ""));
                        }
                    }
                }
                try {
                    samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(4))));
                } catch (NumberFormatException e) {
                    // A value we do not read (NaN is parsed; anything else is not ours).
                }
            }
            return new Samples(samples);
        }

        /** The sum over the samples named {@code name} whose {@code label} is {@code value} (null: all). */
        double sum(String name, String label, String value) {
            return samples.stream().filter(s -> s.name().equals(name))
                    .filter(s -> label == null || value.equals(s.labels().get(label)))
                    .mapToDouble(Sample::value).filter(v -> !Double.isNaN(v)).sum();
        }

        /** The samples named {@code name} whose {@code label} is {@code value}, summed by {@code key}'s value. */
        Map<String, Double> by(String name, String key, String label, String value) {
            Map<String, Double> out = new LinkedHashMap<>();
            samples.stream().filter(s -> s.name().equals(name)).filter(s -> value.equals(s.labels().get(label)))
                    .forEach(s -> out.merge(s.labels().getOrDefault(key, ""), s.value(), Double::sum));
            return out;
        }
    }
}
