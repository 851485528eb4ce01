package org.cttriage.plugin.node;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.inference.EngineOptions;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.inference.ModelPackage;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.plugin.web.Users;
import org.cttriage.plugin.web.WorklistApi;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.junit.ExternalCommand;
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * A node in this process with its HTTP server and worklist, as {@code serve} assembles them, and users to log in
 * with: what the worklist's API and browser tests run against. No destinations: results stay local.
 */
final class WorklistNode implements AutoCloseable {
    static final Path PACKAGE = SharedEngine.PACKAGE;
    static final String PASSWORD = "correct horse battery";

    final TriageNode node;
    final NodeHttpServer http;
    final WorklistApi worklist;
    final Users users;
    private final InferenceEngine engine;
    private final ExecutorService pool;
    private final JdbcConnectionPool dataSource;

    /** @param severities the site's finding severities (worklist.severity) */
    WorklistNode(Path dir, Optional<NodeHttpServer.Tls> tls, Map<String, Priority> severities) throws Exception {
        engine = new InferenceEngine(ModelPackage.load(PACKAGE), EngineOptions.defaults()
                .withDevice(EngineOptions.Device.CPU).withSeverities(severities));
        pool = Executors.newFixedThreadPool(2);
        dataSource = NodeDatabaseFiles.open(dir.resolve("node"));
        node = TriageNode.start(TriageNode.Config.defaults("CTTRIAGE", 0, dir.resolve("node"), List.of())
                        .withQuietPeriod(Duration.ofSeconds(1)),
                dataSource, engine, SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool, Optional.empty(),
                Clock.systemUTC());
        users = new Users(node.database(), Clock.systemUTC());
        users.add("reader", PASSWORD.toCharArray(), Users.Role.READER);
        users.add("admin", PASSWORD.toCharArray(), Users.Role.ADMIN);
        worklist = new WorklistApi(node.database(), node.ledger(), users,
                Map.of(Priority.STAT, Duration.ofMinutes(15), Priority.ROUTINE, Duration.ZERO),
                Duration.ofHours(1), Clock.systemUTC());
        node.addObserver(worklist);
        NodeHealth health = new NodeHealth(node, engine, Duration.ofHours(1), Clock.systemUTC());
        http = NodeHttpServer.start(new InetSocketAddress("127.0.0.1", 0), tls, health::ready, () -> "",
                null, worklist);
    }

    /** Sends a series with storescu. */
    void send(CtSeriesWriter.WrittenSeries series) throws Exception {
        List<String> command = new ArrayList<>(List.of("storescu", "-aet", "MODALITY", "-aec", "CTTRIAGE", "127.0.0.1",
                Integer.toString(node.port())));
        series.files().forEach(f -> command.add(f.toString()));
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(60), command);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("storescu failed: " + r.output());
        }
    }

    String base() {
        return (http.https() ? "https" : "http") + "://127.0.0.1:" + http.port();
    }

    @Override
    public void close() {
        worklist.close();
        http.close();
        node.close();
        dataSource.dispose();
        engine.close();
        pool.shutdownNow();
    }
}
