package org.cttriage.plugin.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.cttriage.testdata.junit.LoopbackPorts;
import org.cttriage.testdata.junit.PostgresServer;
import org.cttriage.testdata.junit.RequiresTools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `serve` and the CLI with database.url: the node's state in a real PostgreSQL server, not H2. */
@RequiresTools({"storescp", "echoscu", PostgresServer.BIN + "/pg_ctl"})
class ServeOnPostgresqlTest {
    @TempDir
    Path dir;

    @Test
    void theNodeKeepsItsStateInPostgresql() throws Exception {
        try (PostgresServer postgres = PostgresServer.start(dir)) {
            Path config = dir.resolve("node.properties");
            Files.writeString(config, "node.data-dir=" + dir.resolve("var") + "\nhttp.port=0\ndicom.port=" + LoopbackPorts.free()
                    + "\nassembly.quiet-period=1s\ndatabase.url=" + postgres.jdbcUrl()
                    + "\ndatabase.user=" + PostgresServer.USER + "\n");
            System.setProperty("ct-triage.home", Path.of("..").toAbsolutePath().normalize().toString());

            CommandLineTest.Run r = CommandLineTest.run("serve", "--config", config.toString(), "--demo-studies", "1",
                    "--exit-after-demo");

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out()).contains("database: PostgreSQL " + postgres.jdbcUrl()).contains("demo: SR ");
            assertThat(dir.resolve("var/db")).as("no embedded database beside it").doesNotExist();
            try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(), PostgresServer.USER, "");
                 Statement s = c.createStatement();
                 ResultSet rows = s.executeQuery("SELECT (SELECT COUNT(*) FROM node_result),"
                         + " (SELECT COUNT(*) FROM node_series WHERE state = 'TRIAGED'),"
                         + " (SELECT COUNT(*) FROM node_instance WHERE spooled)")) {
                rows.next();
                assertThat(rows.getInt(1)).as("results").isEqualTo(1);
                assertThat(rows.getInt(2)).as("triaged series").isEqualTo(1);
                assertThat(rows.getInt(3)).as("instances").isPositive();
            }
            CommandLineTest.Run dead = CommandLineTest.run("dead-letters", "list", "--config", config.toString());
            assertThat(dead.exitCode()).as(dead.err()).isZero();
        }
    }

    @Test
    void anUnreachableDatabaseStopsStartUpWithItsCode() throws Exception {
        Path config = dir.resolve("node.properties");
        int nobody = LoopbackPorts.free();
        Files.writeString(config, "node.data-dir=" + dir.resolve("var") + "\nhttp.port=0\ndicom.port=" + LoopbackPorts.free()
                + "\ndatabase.url=jdbc:postgresql://127.0.0.1:" + nobody + "/node\ndatabase.user=ctt\n");
        System.setProperty("ct-triage.home", Path.of("..").toAbsolutePath().normalize().toString());

        CommandLineTest.Run r = CommandLineTest.run("serve", "--config", config.toString(), "--demo-studies", "0");

        assertThat(r.exitCode()).isEqualTo(CtTriageCommand.EXIT_TRIAGE_FAILURE);
        assertThat(r.err()).contains("TRIAGE-0609").contains("127.0.0.1:" + nobody);
    }
}
