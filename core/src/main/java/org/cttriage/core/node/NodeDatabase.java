package org.cttriage.core.node;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's database: schema migration and transactions over a {@link DataSource}, and
 * {@link Statements}, the prepared statements of a connection kept across transactions. The SQL on
 * each table lives in that table's repository ({@link SeriesRepository}, {@link InstanceRepository},
 * {@link ResultRepository}, {@link DeliveryLedger}); the services call them.
 */
public final class NodeDatabase {
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

    /** Creates the tables that do not exist yet (idempotent). */
    public void migrate() throws TriageException {
        String script;
        try (InputStream in = NodeDatabase.class.getResourceAsStream("schema.sql")) {
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException | NullPointerException e) {
            throw new TriageException(ErrorCode.NODE_DATABASE_FAILED, "schema.sql missing from the class path", e);
        }
        StringBuilder sql = new StringBuilder();
        for (String line : script.split("\n")) {
            if (!line.strip().startsWith("--")) {
                sql.append(line).append('\n');
            }
        }
        transaction(c -> {
            String statements = sql.toString();
            if (isPostgres(c)) {
                // The script's only words PostgreSQL lacks: its large-object types are BYTEA and TEXT.
                statements = statements.replaceAll("\\bBLOB\\b", "BYTEA").replaceAll("\\bCLOB\\b", "TEXT");
            }
            try (Statement s = c.createStatement()) {
                for (String statement : statements.split(";")) {
                    if (!statement.isBlank()) {
                        s.execute(statement);
                    }
                }
            }
            return null;
        });
    }

    private static boolean isPostgres(Connection c) throws SQLException {
        return "PostgreSQL".equals(c.getMetaData().getDatabaseProductName());
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
