package org.cttriage.plugin.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Supplier;
import org.cttriage.plugin.web.WebExchange;
import org.cttriage.plugin.web.WebHandler;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's one HTTP server (Jetty 12, core handlers, no servlet container): {@code GET /health/live} (the process
 * answers), {@code GET /health/ready} ({@link NodeHealth}: 200 when every check is UP, else 503, the JSON naming each
 * check), {@code GET /metrics} ({@link NodeMetrics}, Prometheus text format) and {@code GET /status}
 * ({@link NodeStatus}); none shows patient data, so none asks for a login. The worklist and its REST API, which do
 * show patient data, come in as a {@link WebHandler} that asks for one. HTTPS from a PKCS#12 key store when
 * configured (TLS 1.2 and 1.3).
 */
public final class NodeHttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeHttpServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The server's key material for HTTPS.
     *
     * @param keyStore PKCS#12 file with the server's key and certificate chain
     * @param password its password (and its key's)
     */
    public record Tls(java.nio.file.Path keyStore, char[] password) {
    }

    private final Server server;
    private final ServerConnector connector;
    private final boolean https;

    private NodeHttpServer(Server server, ServerConnector connector, boolean https) {
        this.server = server;
        this.connector = connector;
        this.https = https;
    }

    /** Binds {@code address} and serves the health endpoints from {@code health} and {@code /metrics} from {@code metrics}. */
    public static NodeHttpServer start(InetSocketAddress address, Supplier<NodeHealth.Report> health,
            Supplier<String> metrics) throws IOException {
        return start(address, health, metrics, null);
    }

    /** As {@link #start(InetSocketAddress, Supplier, Supplier)}, and {@code GET /status} from {@code status} when not null. */
    public static NodeHttpServer start(InetSocketAddress address, Supplier<NodeHealth.Report> health,
            Supplier<String> metrics, Supplier<ObjectNode> status) throws IOException {
        return start(address, Optional.empty(), health, metrics, status, null);
    }

    /**
     * The whole server.
     *
     * @param tls HTTPS key material, or empty for plain HTTP
     * @param status {@code GET /status}, or null for none
     * @param app what else the server serves (the worklist), or null for nothing else
     */
    public static NodeHttpServer start(InetSocketAddress address, Optional<Tls> tls, Supplier<NodeHealth.Report> health,
            Supplier<String> metrics, Supplier<ObjectNode> status, WebHandler app) throws IOException {
        QueuedThreadPool threads = new QueuedThreadPool(32, 4);
        threads.setName("http");
        threads.setDaemon(true);
        Server server = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        config.setSendXPoweredBy(false);
        ServerConnector connector;
        if (tls.isPresent()) {
            SslContextFactory.Server ssl = new SslContextFactory.Server();
            ssl.setKeyStorePath(tls.get().keyStore().toAbsolutePath().toString());
            ssl.setKeyStoreType("PKCS12");
            ssl.setKeyStorePassword(new String(tls.get().password()));
            ssl.setIncludeProtocols("TLSv1.3", "TLSv1.2");
            SecureRequestCustomizer secure = new SecureRequestCustomizer();
            // The certificate may name the host by an address or a name the client did not use: no SNI host check.
            secure.setSniHostCheck(false);
            config.addCustomizer(secure);
            connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"),
                    new HttpConnectionFactory(config));
        } else {
            connector = new ServerConnector(server, new HttpConnectionFactory(config));
        }
        connector.setHost(address.getAddress().getHostAddress());
        connector.setPort(address.getPort());
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                WebExchange e = new WebExchange(request, response, callback);
                try {
                    route(e, health, metrics, status, app);
                } catch (WebExchange.BadRequest failure) {
                    answer(e, 400, failure.getMessage());
                } catch (WebExchange.BodyTooLarge failure) {
                    answer(e, 413, failure.getMessage());
                } catch (IOException failure) {
                    if (!e.answered()) {
                        answer(e, 500, "I/O failure: " + failure.getClass().getSimpleName());
                    }
                } catch (Exception | StackOverflowError failure) {
                    LOG.warn("HTTP {} {} failed: {}", request.getMethod(), request.getHttpURI().getPath(),
                            failure.toString());
                    if (!e.answered()) {
                        answer(e, 500, "internal failure: " + failure.getClass().getSimpleName());
                    }
                }
                return true;
            }
        });
        try {
            server.start();
        } catch (Exception e) {
            try {
                server.stop();
            } catch (Exception ignored) {
                // Already failing: the cause below is the one to report.
            }
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
        NodeHttpServer started = new NodeHttpServer(server, connector, tls.isPresent());
        LOG.info("HTTP{} server on {}:{}: /health/live, /health/ready, /metrics{}{}", tls.isPresent() ? "S" : "",
                address.getAddress().getHostAddress(), started.port(), status != null ? ", /status" : "",
                app != null ? ", /worklist/, /api/v1/" : "");
        return started;
    }

    private static void route(WebExchange e, Supplier<NodeHealth.Report> health, Supplier<String> metrics,
            Supplier<ObjectNode> status, WebHandler app) throws Exception {
        String path = e.path();
        boolean monitoring = path.equals("/metrics") || path.equals("/health/live") || path.equals("/health/ready")
                || (status != null && path.equals("/status"));
        if (monitoring) {
            if (!e.method().equals("GET") && !e.method().equals("HEAD")) {
                e.setHeader("Allow", "GET, HEAD");
                e.error(405, "method " + e.method() + " not allowed: GET or HEAD");
                return;
            }
            switch (path) {
                case "/metrics" -> e.send(200, "text/plain; version=0.0.4; charset=utf-8",
                        metrics.get().getBytes(StandardCharsets.UTF_8));
                case "/health/live" -> e.json(200, JSON.createObjectNode().put("status", "UP"));
                case "/health/ready" -> {
                    NodeHealth.Report report;
                    try {
                        report = health.get();
                    } catch (RuntimeException failure) {
                        // A check that fails in an unforeseen way still gets an answer, not a dropped connection.
                        LOG.warn("health check failed: {}", failure.toString());
                        e.error(503, "health check failed: " + failure.getClass().getSimpleName());
                        return;
                    }
                    e.json(report.status() == NodeHealth.Status.UP ? 200 : 503, json(report));
                }
                default -> e.json(200, status.get());
            }
            return;
        }
        if (app != null && app.handle(e)) {
            return;
        }
        e.error(404, "no such resource: " + path);
    }

    private static void answer(WebExchange e, int status, String message) {
        try {
            e.error(status, message);
        } catch (IOException | RuntimeException ignored) {
            // The client has gone; nothing more to say.
        }
    }

    /** The bound port (the chosen one when started with port 0). */
    public int port() {
        return connector.getLocalPort();
    }

    /** Whether the server speaks HTTPS. */
    public boolean https() {
        return https;
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            LOG.warn("HTTP server did not stop cleanly: {}", e.toString());
        }
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
}
