package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.LoopbackPorts;
import org.cttriage.testdata.junit.PostgresServer;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real node process (bin/ct-triage serve's main) is killed with SIGKILL while receiving,
 * while waiting for the quiet period, during inference and during delivery; after a restart
 * every series is triaged and its SR delivered exactly once (storescp keeps every received
 * object in its own file, so a second delivery would show). Each on the embedded H2 and on a
 * PostgreSQL server (database.url), which survives the node's kill as a production one would.
 */
@RequiresTools({"storescu", "storescp", "echoscu", PostgresServer.BIN + "/pg_ctl"})
class NodeCrashRecoveryTest {
    /** The node's database. */
    enum Database { H2, POSTGRESQL }

    private static final Duration WAIT = Duration.ofSeconds(120);

    @TempDir
    Path dir;

    private NodeProcess node;
    private StoreScp pacs;
    private int nodePort;
    private int pacsPort;
    private Path log;
    private PostgresServer postgres;

    @AfterEach
    void cleanUp() throws Exception {
        if (node != null) {
            node.close();
        }
        if (pacs != null) {
            pacs.close();
        }
        if (postgres != null) {
            postgres.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void killDuringQuietPeriod(Database database) throws Exception {
        setUp(true, database);
        List<Path> files = series(1, 30);
        assertThat(storescu(files).exitCode()).isZero();
        node.kill();
        node.restart();
        assertDeliveredOnce(30);
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void killWhileReceiving(Database database) throws Exception {
        setUp(true, database);
        List<Path> files = series(2, 40);
        List<String> command = storescuCommand(files);
        Process sender = new ProcessBuilder(command).redirectErrorStream(true).start();
        int acknowledged = 0;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(sender.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.contains("Received Store Response (Success)") && ++acknowledged == 10) {
                    node.kill();
                }
            }
        }
        sender.waitFor();
        assertThat(acknowledged).isGreaterThanOrEqualTo(10).isLessThan(40);
        node.restart();
        // The PACS resends the series (what a PACS does after a failed export).
        assertThat(storescu(files).exitCode()).isZero();
        assertDeliveredOnce(40);
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void killDuringInference(Database database) throws Exception {
        setUp(true, database);
        // Larger slices widen the window between "triage started" and the SR being written.
        List<Path> files = series(3, 256, 30);
        assertThat(storescu(files).exitCode()).isZero();
        Eventually.awaitTrue(WAIT, "triage started", () -> Files.readString(log).contains("triage of 30 instances started"));
        node.kill();
        node.restart();
        assertDeliveredOnce(30);
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void killDuringDeliveryRetries(Database database) throws Exception {
        setUp(false, database);
        List<Path> files = series(4, 30);
        assertThat(storescu(files).exitCode()).isZero();
        Eventually.awaitTrue(WAIT, "a failed delivery attempt", () -> Files.readString(log).contains("attempt 1/"));
        node.kill();
        pacs = StoreScp.start("PACS", dir.resolve("pacs"), pacsPort, true);
        node.restart();
        assertDeliveredOnce(30);
    }

    private void setUp(boolean pacsUp, Database database) throws Exception {
        String databaseUrl = "";
        if (database == Database.POSTGRESQL) {
            postgres = PostgresServer.start(dir);
            databaseUrl = postgres.jdbcUrl();
        }
        nodePort = LoopbackPorts.free();
        pacsPort = LoopbackPorts.free();
        if (pacsUp) {
            pacs = StoreScp.start("PACS", dir.resolve("pacs"), pacsPort, true);
        }
        Files.writeString(dir.resolve("node.properties"), String.join("\n",
                "node.data-dir=" + dir.resolve("var"),
                "dicom.port=" + nodePort,
                "http.port=0",
                "assembly.quiet-period=3s",
                "delivery.dicom-destinations=PACS@127.0.0.1:" + pacsPort,
                "delivery.max-attempts=50",
                "delivery.initial-backoff=1s",
                "delivery.backoff-multiplier=1",
                "delivery.max-backoff=1s",
                "dicom.min-free-disk-mb=1",
                "database.url=" + databaseUrl,
                "database.user=" + (postgres == null ? "" : PostgresServer.USER), ""));
        log = dir.resolve("node.log");
        node = NodeProcess.start(dir.resolve("node.properties"), log, nodePort, WAIT);
    }

    /** One SR at the PACS (waits for it), then a clean stop and the database's account of it. */
    private void assertDeliveredOnce(int instances) throws Exception {
        Eventually.await(WAIT, () -> "one SR at the PACS; node log:\n" + node.tail(), this::srFiles, l -> !l.isEmpty());
        // The stop waits for the ledger too: the embedded H2 closes itself in its own shutdown hook, so
        // a stop between the PACS's answer and the ledger's record would send the SR again after a
        // restart (same SOP Instance UID; docs/architecture.md, "One delivery model").
        Eventually.awaitTrue(WAIT, "the delivery recorded", () -> Files.readString(log).contains(") done in attempt"));
        node.stop();
        assertThat(srFiles()).as(node.tail()).hasSize(1);
        try (Connection c = postgres != null
                ? DriverManager.getConnection(postgres.jdbcUrl(), PostgresServer.USER, "")
                : DriverManager.getConnection("jdbc:h2:" + dir.resolve("var/db/node") + ";AUTO_SERVER=TRUE", "sa", "");
             Statement s = c.createStatement()) {
            assertThat(count(s, "SELECT COUNT(*) FROM node_result")).isEqualTo(1);
            assertThat(count(s, "SELECT COUNT(*) FROM node_delivery WHERE state = 'DELIVERED'"))
                    .as(() -> rows(s, "SELECT id, state, attempts, last_error FROM node_delivery") + "\n" + node.tail())
                    .isEqualTo(1);
            assertThat(count(s, "SELECT COUNT(*) FROM node_delivery")).isEqualTo(1);
            assertThat(count(s, "SELECT COUNT(*) FROM node_instance")).isEqualTo(instances);
        }
    }

    private static String rows(Statement s, String sql) {
        StringBuilder out = new StringBuilder();
        try (ResultSet r = s.executeQuery(sql)) {
            int columns = r.getMetaData().getColumnCount();
            while (r.next()) {
                for (int i = 1; i <= columns; i++) {
                    out.append(i == 1 ? "" : "\t").append(r.getString(i));
                }
                out.append('\n');
            }
        } catch (SQLException e) {
            out.append(e);
        }
        return out.toString();
    }

    private static int count(Statement s, String sql) throws Exception {
        try (ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getInt(1);
        }
    }

    private List<Path> srFiles() throws IOException {
        return pacs == null ? List.of() : pacs.receivedFiles().stream()
                .filter(p -> p.getFileName().toString().startsWith("SR")).toList();
    }

    private List<String> storescuCommand(List<Path> files) {
        List<String> command = new ArrayList<>(Arrays.asList("storescu", "-v", "-aet", "STORESCU", "-aec", "CTTRIAGE",
                "127.0.0.1", Integer.toString(nodePort)));
        files.forEach(f -> command.add(f.toString()));
        return command;
    }

    private ExternalCommand.Result storescu(List<Path> files) throws Exception {
        return ExternalCommand.run(Duration.ofSeconds(60), storescuCommand(files));
    }

    private List<Path> series(long seed, int slices) throws Exception {
        return series(seed, 64, slices);
    }

    private List<Path> series(long seed, int matrix, int slices) throws Exception {
        return PhantomSeries.write(seed, matrix, slices, 10, dir.resolve("ct-" + seed)).files();
    }
}
