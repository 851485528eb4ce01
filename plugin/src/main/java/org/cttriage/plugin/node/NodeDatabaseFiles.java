package org.cttriage.plugin.node;

import java.nio.file.Path;
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * The embedded H2 database of a node's data folder, written through at every commit. AUTO_SERVER lets the CLI (dead letters,
 * status) open it while the node runs; the H2 server it starts for that binds 127.0.0.1 only
 * ({@code h2.bindAddress}, set before H2 loads).
 */
public final class NodeDatabaseFiles {
    private NodeDatabaseFiles() {
    }

    /** A pooled data source on {@code dataDirectory/db/node}. */
    public static JdbcConnectionPool open(Path dataDirectory) {
        System.setProperty("h2.bindAddress", "127.0.0.1");
        // WRITE_DELAY=0: H2's MVStore has no redo log; with its default 500 ms delay a kill -9
        // lost commits the node had already acknowledged (NodeCrashRecoveryTest caught it).
        String url = "jdbc:h2:" + dataDirectory.toAbsolutePath().resolve("db").resolve("node")
                + ";AUTO_SERVER=TRUE;WRITE_DELAY=0";
        JdbcConnectionPool pool = JdbcConnectionPool.create(url, "sa", "");
        pool.setMaxConnections(16);
        return pool;
    }
}
