package org.cttriage.core.node;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import org.cttriage.testdata.junit.PostgresServer;
import org.postgresql.ds.PGSimpleDataSource;

/** A throw-away PostgreSQL server (started on first use) handing out fresh, migrated node databases. */
final class PostgresDatabases implements AutoCloseable {
    private final Path dir;
    private final AtomicInteger count = new AtomicInteger();
    private PostgresServer server;

    PostgresDatabases(Path dir) {
        this.dir = dir;
    }

    /** A new database, migrated to the newest schema. */
    synchronized NodeDatabase create() throws Exception {
        if (server == null) {
            server = PostgresServer.start(dir);
        }
        String name = "db" + count.incrementAndGet();
        try (Connection c = DriverManager.getConnection(server.jdbcUrl(), PostgresServer.USER, "");
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        PGSimpleDataSource pg = new PGSimpleDataSource();
        pg.setURL(server.jdbcUrl().replaceAll("/node$", "/" + name));
        pg.setUser(PostgresServer.USER);
        NodeDatabase database = new NodeDatabase(pg);
        database.migrate();
        return database;
    }

    @Override
    public synchronized void close() throws Exception {
        if (server != null) {
            server.close();
        }
    }
}
