package org.cttriage.core.node;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's database: versioned schema migrations (Flyway) and transactions over a {@link DataSource},
 * and {@link Statements}, the prepared statements of a connection kept across transactions. The SQL on
 * each table lives in that table's repository ({@link SeriesRepository}, {@link InstanceRepository},
 * {@link ResultRepository}, {@link DeliveryLedger}); the services call them.
 */
public final class NodeDatabase {
    /** Where the versioned migrations are: V1__…, V2__…; never edit a released one, add the next. */
    static final String MIGRATIONS = "classpath:org/cttriage/core/node/migration";
    private static final Logger LOG = LoggerFactory.getLogger(NodeDatabase.class);

    /** Work done inside one transaction. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private final DataSource dataSource;

    public NodeDatabase(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /**
     * Brings the schema to the newest version with Flyway's versioned migrations
     * ({@code org/cttriage/core/node/migration}, history in {@code node_schema_history}).
     * A database created before versioned migrations (tables, no history) is baselined at version 0
     * and upgraded by the same scripts; several nodes starting on one PostgreSQL take Flyway's lock
     * in turn. Idempotent.
     */
    public void migrate() throws TriageException {
        boolean postgres;
        try (Connection c = dataSource.getConnection()) {
            postgres = "PostgreSQL".equals(c.getMetaData().getDatabaseProductName());
        } catch (SQLException e) {
            throw new TriageException(ErrorCode.NODE_DATABASE_FAILED, "database: " + e.getMessage(), e);
        }
        try {
            MigrateResult result = flyway(dataSource, postgres, null).migrate();
            if (result.migrationsExecuted > 0) {
                LOG.info("database schema migrated from version {} to {} ({} migration(s))",
                        result.initialSchemaVersion == null ? "none" : result.initialSchemaVersion,
                        result.targetSchemaVersion, result.migrationsExecuted);
            }
        } catch (FlywayException e) {
            throw new TriageException(ErrorCode.NODE_DATABASE_FAILED, "database schema migration failed: "
                    + e.getMessage(), e);
        }
    }

    /** The database's schema version: the newest migration applied to it, {@code none} before any. */
    public String schemaVersion() throws TriageException {
        try (Connection c = dataSource.getConnection()) {
            MigrationInfo current = flyway(dataSource, "PostgreSQL".equals(c.getMetaData().getDatabaseProductName()),
                    null).info().current();
            return current == null ? "none" : current.getVersion().getVersion();
        } catch (SQLException | FlywayException e) {
            throw new TriageException(ErrorCode.NODE_DATABASE_FAILED, "database: " + e.getMessage(), e);
        }
    }

    /** Flyway over {@code dataSource}; {@code target} null for the newest version (tests stop earlier). */
    static Flyway flyway(DataSource dataSource, boolean postgres, String target) {
        var configuration = Flyway.configure(NodeDatabase.class.getClassLoader())
                .dataSource(dataSource)
                .locations(MIGRATIONS)
                .table("node_schema_history")
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .baselineDescription("tables created before versioned migrations")
                // Flyway ignores applied versions it has no script for by default; a node older than
                // its database stops instead of writing a schema it does not know.
                .ignoreMigrationPatterns(new String[0])
                .placeholders(Map.of("blob", postgres ? "BYTEA" : "BLOB", "clob", postgres ? "TEXT" : "CLOB"));
        if (target != null) {
            configuration = configuration.target(target);
        }
        return configuration.load();
    }

    /** Runs {@code work} in one transaction: committed when it returns, rolled back when it throws. */
    public <T> T transaction(Work<T> work) throws TriageException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T value = work.run(c);
                c.commit();
                return value;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new TriageException(ErrorCode.NODE_DATABASE_FAILED, "database: " + e.getMessage(), e);
        }
    }

    /**
     * Prepared statements on one connection, each prepared on first use and kept until closed: for
     * a connection held across transactions (the ingest's group commit), each statement is parsed
     * once, not once per instance. The repositories' methods that take it prepare through it.
     */
    static final class Statements implements AutoCloseable {
        private final Connection connection;
        private final boolean ownsConnection;
        private final Map<String, PreparedStatement> prepared = new HashMap<>();

        /** @param ownsConnection whether {@link #close()} closes the connection too */
        Statements(Connection connection, boolean ownsConnection) {
            this.connection = connection;
            this.ownsConnection = ownsConnection;
        }

        Connection connection() {
            return connection;
        }

        /** The statement for {@code sql} on this connection, prepared on first use. */
        PreparedStatement prepare(String sql) throws SQLException {
            PreparedStatement s = prepared.get(sql);
            if (s == null) {
                s = connection.prepareStatement(sql);
                prepared.put(sql, s);
            }
            return s;
        }

        @Override
        public void close() {
            for (PreparedStatement s : prepared.values()) {
                try {
                    s.close();
                } catch (SQLException e) {
                    LOG.debug("closing a statement: {}", e.toString());
                }
            }
            prepared.clear();
            if (ownsConnection) {
                try {
                    connection.close();
                } catch (SQLException e) {
                    LOG.debug("closing a held connection: {}", e.toString());
                }
            }
        }
    }
}
