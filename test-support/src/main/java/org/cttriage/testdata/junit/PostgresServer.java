package org.cttriage.testdata.junit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A throw-away PostgreSQL server (Debian's {@code postgresql} package, its binaries in
 * {@link #BIN}) as a running peer: its own cluster in a folder the caller owns, listening on
 * 127.0.0.1 and a free port only (unix socket in the same folder), one database {@code node}
 * whose owner {@code ctt} connects without a password (trust, loopback only). PostgreSQL refuses
 * to run as root, so as root the cluster belongs to the {@code postgres} user the package
 * creates and every server command runs through {@code runuser}.
 */
public final class PostgresServer implements AutoCloseable {
    /** Debian 12's PostgreSQL 15 server binaries (not on the PATH; pg_ctlcluster wraps them). */
    public static final String BIN = "/usr/lib/postgresql/15/bin";
    /** The role the tests connect as. */
    public static final String USER = "ctt";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int START_ATTEMPTS = 3;

    private final Path data;
    private final Path log;
    private final int port;

    private PostgresServer(Path data, Path log, int port) {
        this.data = data;
        this.log = log;
        this.port = port;
    }

    /** Creates a cluster under {@code directory/postgres}, starts it and creates the database {@code node}. */
    public static PostgresServer start(Path directory) throws IOException, InterruptedException {
        Path home = Files.createDirectories(directory.resolve("postgres"));
        Path data = home.resolve("data");
        Path log = home.resolve("postgres.log");
        if (asRoot()) {
            // The cluster's owner must reach its folder: the caller's folder (a JUnit @TempDir,
            // mode 700) is opened to traversal only, never listing.
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx--x--x"));
            run(List.of("chown", "postgres:postgres", home.toString()), false);
        }
        run(List.of(BIN + "/initdb", "-D", data.toString(), "-U", USER, "--auth=trust", "-E", "UTF8",
                "--locale=C.UTF-8"), true);
        IOException last = null;
        for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
            int port = LoopbackPorts.free();
            try {
                run(List.of(BIN + "/pg_ctl", "-D", data.toString(), "-l", log.toString(), "-w", "-t",
                        Long.toString(TIMEOUT.toSeconds()), "-o", "-p " + port + " -c listen_addresses="
                                + LoopbackPorts.HOST + " -k " + home, "start"), true);
                PostgresServer server = new PostgresServer(data, log, port);
                run(List.of(BIN + "/createdb", "-h", LoopbackPorts.HOST, "-p", Integer.toString(port), "-U", USER,
                        "node"), true);
                return server;
            } catch (IOException e) {
                // Most likely the port was taken between LoopbackPorts.free() and the bind.
                last = new IOException(e.getMessage() + "\nserver log:\n" + readLog(log), e);
            }
        }
        throw last;
    }

    /** The JDBC URL of the database {@code node}. */
    public String jdbcUrl() {
        return "jdbc:postgresql://" + LoopbackPorts.HOST + ":" + port + "/node";
    }

    public int port() {
        return port;
    }

    /** Stops the server (fast shutdown: open sessions are ended). */
    @Override
    public void close() throws IOException, InterruptedException {
        run(List.of(BIN + "/pg_ctl", "-D", data.toString(), "-m", "fast", "-w", "stop"), true);
    }

    private static boolean asRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void run(List<String> command, boolean asClusterOwner) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>();
        if (asClusterOwner && asRoot()) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        ExternalCommand.Result r = ExternalCommand.run(TIMEOUT, full.toArray(String[]::new));
        if (r.exitCode() != 0) {
            throw new IOException(String.join(" ", full) + " exited with " + r.exitCode() + ":\n" + r.output());
        }
    }

    private static String readLog(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "(no log)";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }
}
