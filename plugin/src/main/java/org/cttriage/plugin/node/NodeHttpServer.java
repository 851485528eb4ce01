package org.cttriage.plugin.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's HTTP server, for monitoring: {@code GET /health/live} (the process answers), {@code GET /health/ready}
 * ({@link NodeHealth}: 200 when every check is UP, else 503, the JSON naming each check) and {@code GET /metrics}
 * ({@link NodeMetrics}, Prometheus text format) and {@code GET /status} ({@link NodeStatus}). None shows patient data, so none asks for a login. The JDK's server: no dependency, two threads; the endpoints with patient data that
 * later issues add (the worklist) belong behind a login and TLS.
 */
public final class NodeHttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeHttpServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService threads;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private NodeHttpServer(HttpServer server, ExecutorService threads) {
        this.server = server;
        this.threads = threads;
    }

    /** Binds {@code address} and serves the health endpoints from {@code health} and {@code /metrics} from {@code metrics}. */
    public static NodeHttpServer start(InetSocketAddress address, Supplier<NodeHealth.Report> health,
            Supplier<String> metrics) throws IOException {
        return start(address, health, metrics, null);
    }

    /** As {@link #start(InetSocketAddress, Supplier, Supplier)}, and {@code GET /status} from {@code status} when not null. */
    public static NodeHttpServer start(InetSocketAddress address, Supplier<NodeHealth.Report> health,
            Supplier<String> metrics, Supplier<ObjectNode> status) throws IOException {
        HttpServer server = HttpServer.create(address, 16);
        if (status != null) {
            server.createContext("/status", exact("/status", e -> {
                ObjectNode body;
                try {
                    body = status.get();
                } catch (RuntimeException failure) {
                    LOG.warn("status failed: {}", failure.toString());
                    answer(e, 500, error("status failed: " + failure.getClass().getSimpleName()));
                    return;
                }
                answer(e, 200, body);
            }));
        }
        server.createContext("/metrics", exact("/metrics", e -> {
            try (e) {
                if (!"GET".equals(e.getRequestMethod()) && !"HEAD".equals(e.getRequestMethod())) {
                    answer(e, 405, null);
                    return;
                }
                byte[] bytes = metrics.get().getBytes(StandardCharsets.UTF_8);
                e.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                e.sendResponseHeaders(200, "HEAD".equals(e.getRequestMethod()) ? -1 : bytes.length);
                if (!"HEAD".equals(e.getRequestMethod())) {
                    try (OutputStream out = e.getResponseBody()) {
                        out.write(bytes);
                    }
                }
            }
        }));
        server.createContext("/health/live", exact("/health/live", e -> answer(e, 200, live())));
        server.createContext("/health/ready", exact("/health/ready", e -> {
            NodeHealth.Report report;
            try {
                report = health.get();
            } catch (RuntimeException failure) {
                // A check that fails in an unforeseen way still gets an answer, not a dropped connection.
                LOG.warn("health check failed: {}", failure.toString());
                answer(e, 503, error("health check failed: " + failure.getClass().getSimpleName()));
                return;
            }
            answer(e, report.status() == NodeHealth.Status.UP ? 200 : 503, json(report));
        }));
        server.createContext("/", e -> answer(e, 404, error("no such resource: " + e.getRequestURI().getPath())));
        ExecutorService threads = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(threads);
        server.start();
        LOG.info("HTTP server on {}:{}: /health/live, /health/ready, /metrics{}", address.getHostString(),
                server.getAddress().getPort(), status != null ? ", /status" : "");
        return new NodeHttpServer(server, threads);
    }

    /** A context answers its own path only: the JDK's contexts match by prefix ({@code /metrics/x} would match). */
    private static HttpHandler exact(String path, HttpHandler handler) {
        return e -> {
            if (!e.getRequestURI().getPath().equals(path)) {
                answer(e, 404, error("no such resource: " + e.getRequestURI().getPath()));
                return;
            }
            handler.handle(e);
        };
    }

    /** The bound port (the chosen one when started with port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        server.stop(1);
        threads.shutdownNow();
    }

    private static ObjectNode live() {
        ObjectNode body = JSON.createObjectNode();
        body.put("status", "UP");
        return body;
    }

    static ObjectNode json(NodeHealth.Report report) {
        ObjectNode body = JSON.createObjectNode();
        body.put("status", report.status().name());
        ArrayNode checks = body.putArray("checks");
        for (NodeHealth.Check c : report.checks()) {
            checks.addObject().put("name", c.name()).put("status", c.status().name()).put("detail", c.detail());
        }
        return body;
    }

    private static ObjectNode error(String message) {
        ObjectNode body = JSON.createObjectNode();
        body.put("error", message);
        return body;
    }

    private static void answer(HttpExchange exchange, int status, ObjectNode body) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            if (!"GET".equals(method) && !"HEAD".equals(method)) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                send(exchange, 405, error("method " + method + " not allowed: GET or HEAD"), false);
                return;
            }
            send(exchange, status, body, "HEAD".equals(method));
        }
    }

    private static void send(HttpExchange exchange, int status, ObjectNode body, boolean head) throws IOException {
        byte[] bytes = JSON.writeValueAsString(body).getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }
}
