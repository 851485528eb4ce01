package org.cttriage.core.node;

import java.nio.file.Path;
import org.cttriage.core.error.TriageException;
import org.h2.jdbcx.JdbcDataSource;

/** What most of the node's tests start from: the embedded H2 database in the test's folder, migrated. */
final class TestDatabases {
    private TestDatabases() {
    }

    /**
     * {@code dir/db/node}, as the node lays it out, at the newest schema version. Kept open while the JVM runs
     * (DB_CLOSE_DELAY=-1), as the node's connection pool keeps it: without a pool, every transaction opened and
     * closed the database file, and a transaction that opened it while another thread's was closing it read the
     * state before that thread's commit (DeliverySchedulerTest failed so, now and then).
     */
    static NodeDatabase migratedH2(Path dir) throws TriageException {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:" + dir.resolve("db/node").toAbsolutePath() + ";DB_CLOSE_DELAY=-1");
        NodeDatabase database = new NodeDatabase(ds);
        database.migrate();
        return database;
    }
}
