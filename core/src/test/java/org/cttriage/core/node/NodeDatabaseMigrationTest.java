package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.testdata.junit.PostgresServer;
import org.cttriage.testdata.junit.RequiresTools;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Versioned migrations on H2 and PostgreSQL: a new database, a database that ct-triage created
 * before versioned migrations (with rows the node still owes), an older one still, and a database
 * at version 1 that version 2 upgrades.
 */
@Tag("interop")
@RequiresTools(PostgresServer.BIN + "/pg_ctl")
class NodeDatabaseMigrationTest {
    enum Kind { H2, POSTGRESQL }

    private static final Instant NOW = Instant.parse("2026-12-04T03:00:00Z");
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static PostgresServer postgres;

    @TempDir
    static Path postgresDir;
    @TempDir
    Path dir;

    @AfterAll
    static void stopPostgres() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void newDatabaseGetsEveryVersionOnceAndMigratingAgainChangesNothing(Kind kind) throws Exception {
        NodeDatabase database = new NodeDatabase(dataSource(kind));
        database.migrate();
        assertThat(database.schemaVersion()).isEqualTo("5");
        assertThat(history(database.dataSource())).containsExactly("1 node tables", "2 delivery schedule", "3 worklist",
                "4 cluster outbox", "5 result objects");
        database.migrate();
        assertThat(history(database.dataSource())).hasSize(5);
        assertThat(columns(database.dataSource(), "node_study")).contains("priority", "priority_findings", "state");
        assertThat(columns(database.dataSource(), "node_user")).contains("password_hash", "locked_until");
        assertThat(columns(database.dataSource(), "node_delivery")).contains("next_attempt", "claimed_until");
        assertThat(columns(database.dataSource(), "node_result")).contains("source_json", "objects_json");
        assertThat(columns(database.dataSource(), "node_outbox")).contains("queue", "message", "created");
        assertThat(columns(database.dataSource(), "node_triage_queue")).contains("queued_for", "queued_at");
        assertThat(columns(database.dataSource(), "node_cluster")).contains("cluster_id");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aResultFromBeforeVersionFiveIsDeliveredAsItsSrAlone(Kind kind) throws Exception {
        DataSource dataSource = dataSource(kind);
        NodeDatabase.flyway(dataSource, kind == Kind.POSTGRESQL, "4").migrate();
        assertThat(columns(dataSource, "node_result")).doesNotContain("objects_json");
        insertOwedDelivery(dataSource);

        NodeDatabase database = new NodeDatabase(dataSource);
        database.migrate();

        assertThat(database.schemaVersion()).isEqualTo("5");
        assertThat(new DeliveryLedger(database, Clock.fixed(NOW, ZoneOffset.UTC)).due(NOW, 10)).singleElement()
                .satisfies(d -> assertThat(d.files()).containsExactly(d.srFile()));
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void databaseFromBeforeVersionedMigrationsIsUpgradedWithItsRows(Kind kind) throws Exception {
        DataSource dataSource = dataSource(kind);
        runScript(dataSource, preFlywaySchema(kind));
        insertOwedDelivery(dataSource);

        NodeDatabase database = new NodeDatabase(dataSource);
        database.migrate();

        assertThat(database.schemaVersion()).isEqualTo("5");
        assertThat(history(dataSource)).containsExactly("0 tables created before versioned migrations",
                "1 node tables", "2 delivery schedule", "3 worklist", "4 cluster outbox", "5 result objects");
        assertThat(columns(dataSource, "node_delivery")).contains("next_attempt", "claimed_until");
        // The delivery the old version owed is still owed, due at once, and goes through the new ledger.
        DeliveryLedger ledger = new DeliveryLedger(database, Clock.fixed(NOW, ZoneOffset.UTC));
        List<DeliveryLedger.Delivery> due = ledger.due(NOW, 10);
        assertThat(due).singleElement().satisfies(d -> {
            assertThat(d.destination()).isEqualTo("pacs");
            assertThat(d.state()).isEqualTo(DeliveryState.PENDING);
            assertThat(d.attempts()).isEqualTo(3);
        });
        assertThat(ledger.claim(due.get(0).id(), NOW.plusSeconds(600))).isTrue();
        assertThat(ledger.due(NOW, 10)).isEmpty();
        assertThat(count(dataSource, "SELECT COUNT(*) FROM node_instance WHERE spooled = TRUE")).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void databaseFromBeforeSpoolRetentionGainsItsColumns(Kind kind) throws Exception {
        String schema = preFlywaySchema(kind);
        // ct-triage before spool retention and source attributes: the script without its ALTERs.
        DataSource dataSource = dataSource(kind);
        runScript(dataSource, schema.substring(0, schema.indexOf("-- Spool retention")));
        assertThat(columns(dataSource, "node_instance")).doesNotContain("spooled", "content_sha256");

        new NodeDatabase(dataSource).migrate();

        assertThat(columns(dataSource, "node_instance")).contains("spooled", "content_sha256");
        assertThat(columns(dataSource, "node_result")).contains("source_json");
        assertThat(columns(dataSource, "node_delivery")).contains("next_attempt", "claimed_until");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void databaseAtVersionOneIsUpgradedByVersionTwo(Kind kind) throws Exception {
        DataSource dataSource = dataSource(kind);
        NodeDatabase.flyway(dataSource, kind == Kind.POSTGRESQL, "1").migrate();
        assertThat(columns(dataSource, "node_delivery")).doesNotContain("next_attempt", "claimed_until");
        insertOwedDelivery(dataSource);

        NodeDatabase database = new NodeDatabase(dataSource);
        database.migrate();

        assertThat(database.schemaVersion()).isEqualTo("5");
        assertThat(history(dataSource)).containsExactly("1 node tables", "2 delivery schedule", "3 worklist",
                "4 cluster outbox", "5 result objects");
        assertThat(new DeliveryLedger(database, Clock.fixed(NOW, ZoneOffset.UTC)).due(NOW, 10)).hasSize(1);
        // Version 3: the study with a result enters the worklist with its result's priority, not yet reviewed.
        assertThat(count(dataSource, "SELECT COUNT(*) FROM node_study WHERE state = 'NEW' AND priority_source = 'model'"))
                .isEqualTo(1);
    }

    @Test
    void aDatabaseNewerThanTheBuildStopsStartUp() throws Exception {
        DataSource dataSource = dataSource(Kind.H2);
        new NodeDatabase(dataSource).migrate();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            // What a later ct-triage would have recorded: a version this build has no script for.
            s.execute("INSERT INTO \"node_schema_history\" (\"installed_rank\", \"version\", \"description\", "
                    + "\"type\", \"script\", \"checksum\", \"installed_by\", \"installed_on\", \"execution_time\", "
                    + "\"success\") VALUES (99, '99', 'from the future', 'SQL', 'V99__from_the_future.sql', 0, 'sa', "
                    + "CURRENT_TIMESTAMP, 1, TRUE)");
        }
        assertThatThrownBy(() -> new NodeDatabase(dataSource).migrate())
                .isInstanceOfSatisfying(TriageException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.NODE_DATABASE_FAILED))
                .hasMessageContaining("not resolved locally");
    }

    private DataSource dataSource(Kind kind) throws Exception {
        String name = "migration" + DATABASES.incrementAndGet();
        if (kind == Kind.H2) {
            JdbcDataSource h2 = new JdbcDataSource();
            h2.setURL("jdbc:h2:" + dir.resolve(name));
            h2.setUser("sa");
            return h2;
        }
        synchronized (NodeDatabaseMigrationTest.class) {
            if (postgres == null) {
                postgres = PostgresServer.start(postgresDir);
            }
        }
        try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(), PostgresServer.USER, "");
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        PGSimpleDataSource pg = new PGSimpleDataSource();
        pg.setURL(postgres.jdbcUrl().replaceAll("/node$", "/" + name));
        pg.setUser(PostgresServer.USER);
        return pg;
    }

    /** The old schema.sql, with the BLOB/CLOB rewrite the old NodeDatabase did on PostgreSQL. */
    private static String preFlywaySchema(Kind kind) throws IOException {
        String script;
        try (InputStream in = NodeDatabaseMigrationTest.class.getResourceAsStream("pre-flyway-schema.sql")) {
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        return kind == Kind.H2 ? script
                : script.replaceAll("\\bBLOB\\b", "BYTEA").replaceAll("\\bCLOB\\b", "TEXT");
    }

    /** Runs a script the way the old NodeDatabase did: comment lines dropped, split on ';'. */
    private static void runScript(DataSource dataSource, String script) throws SQLException {
        StringBuilder sql = new StringBuilder();
        for (String line : script.split("\n")) {
            if (!line.strip().startsWith("--")) {
                sql.append(line).append('\n');
            }
        }
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            for (String statement : sql.toString().split(";")) {
                if (!statement.isBlank()) {
                    s.execute(statement);
                }
            }
        }
    }

    /** A series, its instance, a result and a delivery to the PACS still pending after 3 attempts. */
    private static void insertOwedDelivery(DataSource dataSource) throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO node_series (study_uid, series_uid, state, instances, first_received, "
                    + "last_received) VALUES ('1.2.3', '1.2.3.4', 'TRIAGED', 1, TIMESTAMP '2026-12-04 02:00:00', "
                    + "TIMESTAMP '2026-12-04 02:00:00')");
            s.execute("INSERT INTO node_instance (sop_uid, study_uid, series_uid, sop_class_uid, transfer_syntax, "
                    + "path, bytes, revision, calling_aet, received) VALUES ('1.2.3.4.1', '1.2.3', '1.2.3.4', "
                    + "'1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.1.2.1', 'spool/1', 100, 1, 'MODALITY', "
                    + "TIMESTAMP '2026-12-04 02:00:00')");
            s.execute("INSERT INTO node_result (study_uid, series_uid, input_hash, sr_sop_uid, sr_path, result_json, "
                    + "priority, created) VALUES ('1.2.3', '1.2.3.4', 'abc', '9.8.7', 'results/sr.dcm', '{}', "
                    + "'routine', TIMESTAMP '2026-12-04 02:00:00')");
            s.execute("INSERT INTO node_delivery (result_id, destination, state, attempts, last_error, updated) "
                    + "SELECT id, 'pacs', 'PENDING', 3, 'connection refused', TIMESTAMP '2026-12-04 02:00:00' "
                    + "FROM node_result");
        }
    }

    /** The applied versions as "version description", oldest first (not Flyway's own marker rows). */
    private static List<String> history(DataSource dataSource) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT \"version\", \"description\" FROM \"node_schema_history\" "
                     + "WHERE \"version\" IS NOT NULL ORDER BY \"installed_rank\"")) {
            while (r.next()) {
                rows.add(r.getString(1) + " " + r.getString(2));
            }
        }
        return rows;
    }

    /** The table's column names, lower case. */
    private static List<String> columns(DataSource dataSource, String table) throws SQLException {
        List<String> names = new ArrayList<>();
        try (Connection c = dataSource.getConnection()) {
            String stored = "PostgreSQL".equals(c.getMetaData().getDatabaseProductName()) ? table : table.toUpperCase();
            try (ResultSet r = c.getMetaData().getColumns(null, null, stored, null)) {
                while (r.next()) {
                    names.add(r.getString("COLUMN_NAME").toLowerCase());
                }
            }
        }
        return names;
    }

    private static int count(DataSource dataSource, String sql) throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getInt(1);
        }
    }
}
