package org.cttriage.plugin.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.plugin.node.NodeDatabaseFiles;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code studies list|show} on a node database holding a study of three series and two results. */
class StudiesCommandTest {
    @TempDir
    Path dir;

    @Test
    void listsStudiesAndShowsEachSeriesVerdictResultAndDelivery() throws Exception {
        Path data = dir.resolve("var");
        JdbcConnectionPool pool = NodeDatabaseFiles.open(data);
        try {
            new NodeDatabase(pool).migrate();
            try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO node_series (study_uid, series_uid, state, instances, first_received,"
                        + " last_received, reason) VALUES"
                        + " ('1.2.3', '1.2.3.1', 'TRIAGED', 120, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'selected: 120 slices'),"
                        + " ('1.2.3', '1.2.3.2', 'NOT_TRIAGED', 120, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP,"
                        + " 'TRIAGE-0215 another series preferred: soft-tissue kernel (STANDARD vs LUNG)'),"
                        + " ('1.2.3', '1.2.3.3', 'NOT_TRIAGED', 30, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP,"
                        + " 'TRIAGE-0215 another series preferred: thinner')");
                s.executeUpdate("INSERT INTO node_result (id, study_uid, series_uid, input_hash, sr_sop_uid, sr_path,"
                        + " result_json, priority, created, superseded_by) VALUES"
                        + " (1, '1.2.3', '1.2.3.3', 'a', '9.1', '/sr1.dcm', '{}', 'routine', CURRENT_TIMESTAMP, 2),"
                        + " (2, '1.2.3', '1.2.3.1', 'b', '9.2', '/sr2.dcm', '{}', 'urgent', CURRENT_TIMESTAMP, NULL)");
                s.executeUpdate("INSERT INTO node_delivery (id, result_id, destination, state, attempts, last_error,"
                        + " updated) VALUES (5, 2, 'pacs', 'DELIVERED', 1, NULL, CURRENT_TIMESTAMP),"
                        + " (6, 2, 'fhir', 'PENDING', 2, 'TRIAGE-0501 HTTP 503', CURRENT_TIMESTAMP)");
            }
        } finally {
            pool.dispose();
        }
        Path config = dir.resolve("node.properties");
        Files.writeString(config, "node.data-dir=" + data + "\n");

        CommandLineTest.Run list = CommandLineTest.run("studies", "list", "--config", config.toString());
        assertThat(list.exitCode()).as(list.err()).isZero();
        assertThat(list.out()).contains("1.2.3\t3 series (1 triaged, 2 not triaged, 0 receiving)\tpriority urgent")
                .contains("1 study(ies)");

        CommandLineTest.Run show = CommandLineTest.run("studies", "show", "1.2.3", "--config", config.toString());
        assertThat(show.exitCode()).as(show.err()).isZero();
        assertThat(show.out())
                .contains("1.2.3.1\t120 instances\tTRIAGED\tselected: 120 slices")
                .contains("1.2.3.2\t120 instances\tNOT_TRIAGED\tTRIAGE-0215 another series preferred: soft-tissue kernel")
                .contains("result 1\tsuperseded by 2\tseries 1.2.3.3\tpriority routine")
                .contains("result 2\tcurrent\tseries 1.2.3.1\tpriority urgent\tSR 9.2")
                .contains("delivery 5\tpacs\tDELIVERED\t1 attempt(s)")
                .contains("delivery 6\tfhir\tPENDING\t2 attempt(s)\tTRIAGE-0501 HTTP 503");

        CommandLineTest.Run unknown = CommandLineTest.run("studies", "show", "4.5.6", "--config", config.toString());
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.err()).contains("TRIAGE-0106 no study 4.5.6");
    }
}
