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
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dead-letters list|retry} on a node database holding one dead delivery. */
class DeadLettersCommandTest {
    @TempDir
    Path dir;

    @Test
    void listsAndRetriesDeadDeliveries() throws Exception {
        Path data = dir.resolve("var");
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
            }
        } finally {
            pool.dispose();
        }
        Path config = dir.resolve("node.properties");
        Files.writeString(config, "node.data-dir=" + data + "\n");

        String list = run("dead-letters", "list", "--config", config.toString());
        assertThat(list).contains("42\tpacs\tseries 1.2.3/1.2.3.4\t5 attempts").contains("connection refused")
                .contains("1 dead letter(s)");
        assertThat(run("dead-letters", "retry", "42", "--config", config.toString())).contains("1 delivery(ies) pending");

        pool = NodeDatabaseFiles.open(data);
        try {
            DeliveryLedger ledger = new DeliveryLedger(new NodeDatabase(pool), Clock.systemUTC());
            assertThat(ledger.find(42).state()).isEqualTo(DeliveryState.PENDING);
            assertThat(ledger.find(42).attempts()).isZero();
        } finally {
            pool.dispose();
        }
        assertThat(run("dead-letters", "list", "--config", config.toString())).contains("0 dead letter(s)");
    }

    private static String run(String... args) {
        CommandLineTest.Run r = CommandLineTest.run(args);
        assertThat(r.exitCode()).as(r.err()).isZero();
        return r.out();
    }
}
