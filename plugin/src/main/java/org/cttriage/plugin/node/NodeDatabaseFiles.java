package org.cttriage.plugin.node;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import javax.sql.DataSource;
import org.cttriage.core.error.TriageException;
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * The node's database, as the configuration names it: PostgreSQL when {@code database.url} is
 * set (DESIGN.md's production database: commits are durable when PostgreSQL says so, and several
 * nodes can share it), otherwise the embedded H2 of the data folder, written through at every
 * commit. H2's AUTO_SERVER lets the CLI (dead letters, status) open it while the node runs; the
 * H2 server it starts for that binds 127.0.0.1 only ({@code h2.bindAddress}, set before H2 loads).
 */
public final class NodeDatabaseFiles {
    private NodeDatabaseFiles() {
    }

    /**
     * An open, pooled database; closing it closes the pool.
     *
     * @param dataSource the pool
     * @param description where it is, for the start-up lines (never the password)
     * @param closer what closing does
     */
    public record Opened(DataSource dataSource, String description, Runnable closer) implements AutoCloseable {
        @Override
        public void close() {
            closer.run();
        }
    }

    /** The database the settings name. */
    public static Opened open(NodeSettings settings) throws TriageException {
        NodeSettings.Database db = settings.database();
        if (db.url().isEmpty()) {
            JdbcConnectionPool pool = open(settings.dataDirectory());
            return new Opened(pool, "embedded H2 in " + settings.dataDirectory().toAbsolutePath().resolve("db"),
                    pool::dispose);
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(db.url());
        config.setUsername(db.user());
        config.setPassword(db.password());
        config.setMaximumPoolSize(db.poolSize());
        config.setPoolName("ct-triage-db");
        // A database that is down at start-up stops the node with a clear message, not later.
        config.setInitializationFailTimeout(10_000);
        HikariDataSource pool = new HikariDataSource(config);
        return new Opened(pool, "PostgreSQL " + db.url(), pool::close);
    }

    /** A pooled data source on the embedded H2 database {@code dataDirectory/db/node}. */
    public static JdbcConnectionPool open(Path dataDirectory) {
        System.setProperty("h2.bindAddress", "127.0.0.1");
        // WRITE_DELAY=0: H2's MVStore has no redo log; with its default 500 ms delay a kill -9
        // lost commits the node had already acknowledged (NodeCrashRecoveryTest caught it).
        // QUERY_CACHE_SIZE=64: H2 keeps 8 parsed statements per session by default, fewer than the
        // node's pooled connections use; re-parsing cost ~ 15 % of receive throughput
        // (docs/benchmarks.md).
        // H2's default DB_CLOSE_ON_EXIT stays (H2 refuses FALSE with AUTO_SERVER): its shutdown hook would close the
        // database under a stopping node, so serve stops the node on SIGTERM before the JVM's hooks (GracefulStop).
        String url = "jdbc:h2:" + dataDirectory.toAbsolutePath().resolve("db").resolve("node")
                + ";AUTO_SERVER=TRUE;WRITE_DELAY=0;QUERY_CACHE_SIZE=64";
        JdbcConnectionPool pool = JdbcConnectionPool.create(url, "sa", "");
        pool.setMaxConnections(16);
        return pool;
    }
}
