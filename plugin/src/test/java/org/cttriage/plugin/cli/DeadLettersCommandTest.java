package org.cttriage.plugin.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.plugin.node.NodeDatabaseFiles;
import org.cttriage.testdata.audit.AuditSchema;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dead-letters list|retry|discard} on a node database holding dead deliveries of both kinds (SR to a
 * PACS, FHIR), and a bundle left in the FHIR dead-letter folder of an earlier version.
 */
class DeadLettersCommandTest {
    @TempDir
    Path dir;

    private Path data;
    private Path config;
    private Path folder;

    @BeforeEach
    void deadLetters() throws Exception {
        data = dir.resolve("var");
        folder = dir.resolve("fhir-dead");
        JdbcConnectionPool pool = NodeDatabaseFiles.open(data);
        try {
            NodeDatabase db = new NodeDatabase(pool);
            db.migrate();
            try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO node_result (id, study_uid, series_uid, input_hash, sr_sop_uid, sr_path, "
                        + "result_json, priority, created) VALUES (7, '1.2.3', '1.2.3.4', 'h', '1.2.3.4.5', '/sr.dcm', '{}', "
                        + "'routine', CURRENT_TIMESTAMP)");
                s.executeUpdate("INSERT INTO node_delivery (id, result_id, destination, state, attempts, last_error, "
                        + "updated) VALUES (42, 7, 'pacs', 'DEAD', 5, 'TRIAGE-0610 connection refused', CURRENT_TIMESTAMP)");
                s.executeUpdate("INSERT INTO node_delivery (id, result_id, destination, state, attempts, last_error, "
                        + "updated) VALUES (43, 7, 'fhir', 'DEAD', 1, 'TRIAGE-0502 the FHIR server refused the bundle:"
                        + " HTTP 422', CURRENT_TIMESTAMP)");
            }
        } finally {
            pool.dispose();
        }
        // What an earlier version's FHIR delivery left in its folder.
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("study-1.2.3-abc.json"), "{\"format\":\"ct-triage-fhir-dead-letter/1\","
                + "\"correlationId\":\"1.2.3/1.2.3.4\",\"firstAttempt\":\"2026-11-01T10:00:00Z\","
                + "\"lastAttempt\":\"2026-11-01T10:05:00Z\",\"attempts\":6,\"lastStatus\":503,"
                + "\"lastError\":\"TRIAGE-0501 HTTP 503\",\"bundle\":{\"resourceType\":\"Bundle\",\"type\":\"transaction\"}}");
        config = dir.resolve("node.properties");
        Files.writeString(config, "node.data-dir=" + data + "\nfhir.dead-letter-dir=" + folder + "\n");
    }

    @Test
    void listsEveryKindFromTheLedgerAndTheEarlierFhirFolder() {
        String list = run("dead-letters", "list", "--config", config.toString());
        assertThat(list).contains("42\tpacs\tseries 1.2.3/1.2.3.4\t5 attempts").contains("connection refused")
                .contains("43\tfhir\tseries 1.2.3/1.2.3.4\t1 attempts").contains("HTTP 422")
                .contains("fhir-folder:study-1.2.3-abc\tfhir (folder").contains("6 attempts")
                .contains("3 dead letter(s), 1 of them in the FHIR dead-letter folder");
    }

    @Test
    void retryMakesADeadLetterPendingAgainDueNow() throws Exception {
        assertThat(run("dead-letters", "retry", "42", "--config", config.toString())).contains("1 delivery(ies) pending");

        JdbcConnectionPool pool = NodeDatabaseFiles.open(data);
        try {
            DeliveryLedger ledger = new DeliveryLedger(new NodeDatabase(pool), Clock.systemUTC());
            assertThat(ledger.find(42).state()).isEqualTo(DeliveryState.PENDING);
            assertThat(ledger.find(42).attempts()).isZero();
            assertThat(ledger.find(42).nextAttempt()).isNotNull();
            assertThat(ledger.find(43).state()).isEqualTo(DeliveryState.DEAD);
        } finally {
            pool.dispose();
        }
        assertThat(run("dead-letters", "list", "--config", config.toString())).contains("2 dead letter(s)");
    }

    @Test
    void discardEndsEveryDeadLetterForGood() throws Exception {
        assertThat(run("dead-letters", "discard", "--all", "--config", config.toString()))
                .contains("3 dead letter(s) discarded");

        JdbcConnectionPool pool = NodeDatabaseFiles.open(data);
        try {
            DeliveryLedger ledger = new DeliveryLedger(new NodeDatabase(pool), Clock.systemUTC());
            assertThat(ledger.find(42).state()).isEqualTo(DeliveryState.DISCARDED);
            assertThat(ledger.find(43).state()).isEqualTo(DeliveryState.DISCARDED);
        } finally {
            pool.dispose();
        }
        assertThat(folder).isEmptyDirectory();
        assertThat(run("dead-letters", "list", "--config", config.toString())).contains("0 dead letter(s)");
        CommandLineTest.Run again = CommandLineTest.run("dead-letters", "retry", "42", "--config", config.toString());
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.err()).contains("delivery 42 is not a dead letter");
    }

    @Test
    void retryAndDiscardAreAuditedAsProcedureRecordUpdatesNamingStudyAndPatient() throws Exception {
        JdbcConnectionPool pool = NodeDatabaseFiles.open(data);
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE node_result SET source_json = '{\"StudyInstanceUID\":\"1.2.3\",\"PatientID\":"
                    + "\"PID-9\",\"IssuerOfPatientID\":\"HOSP\",\"AccessionNumber\":\"A1\"}' WHERE id = 7");
        } finally {
            pool.dispose();
        }
        Path audit = dir.resolve("audit.log");
        Files.writeString(config, "audit.file=" + audit + "\n", java.nio.file.StandardOpenOption.APPEND);
        run("dead-letters", "retry", "42", "--config", config.toString());
        run("dead-letters", "discard", "43", "--config", config.toString());

        java.util.List<String> lines = Files.readAllLines(audit);
        // Each command: Application Start, its action, Application Stop.
        assertThat(lines).hasSize(6);
        lines.forEach(l -> AuditSchema.assertValid(l.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThat(lines.get(1)).contains("csd-code=\"110111\"").contains("EventActionCode=\"U\"")
                .contains("csd-code=\"DLRETRY\"").contains("ParticipantObjectID=\"1.2.3\"")
                .contains("ParticipantObjectID=\"PID-9^^^HOSP\"").contains("UserName=\"ct-triage dead-letters\"");
        assertThat(lines.get(4)).contains("csd-code=\"DLDISCARD\"").contains("dead letter 43 to fhir discarded");
        assertThat(lines.get(0)).contains("csd-code=\"110120\"");
        assertThat(lines.get(5)).contains("csd-code=\"110121\"");
    }

    @Test
    void resendingAFolderBundleNeedsAFhirServer() {
        CommandLineTest.Run r = CommandLineTest.run("dead-letters", "retry", "fhir-folder:study-1.2.3-abc",
                "--config", config.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("TRIAGE-0612").contains("fhir.url");
        assertThat(folder.resolve("study-1.2.3-abc.json")).exists();
    }

    private static String run(String... args) {
        CommandLineTest.Run r = CommandLineTest.run(args);
        assertThat(r.exitCode()).as(r.err()).isZero();
        return r.out();
    }
}
