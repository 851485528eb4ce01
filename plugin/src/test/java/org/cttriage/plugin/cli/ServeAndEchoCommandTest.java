package org.cttriage.plugin.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.cttriage.testdata.junit.LoopbackPorts;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.cttriage.testdata.junit.TlsKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** README's main command (`serve` in demo mode), `echo` (plain and with the node's outbound TLS), and a bad configuration value. */
@RequiresTools({"storescp", "echoscu", "keytool", "openssl"})
class ServeAndEchoCommandTest {
    @TempDir
    Path dir;

    @Test
    void serveWithoutAPacsFeedsItselfAndSaysWhereTheSrsAre() throws Exception {
        Path config = dir.resolve("node.properties");
        Files.writeString(config, "node.data-dir=" + dir.resolve("var") + "\nhttp.port=0\ndicom.port=" + LoopbackPorts.free()
                + "\nassembly.quiet-period=1s\n");
        System.setProperty("ct-triage.home", Path.of("..").toAbsolutePath().normalize().toString());
        CommandLineTest.Run r = CommandLineTest.run("serve", "--config", config.toString(), "--demo-studies", "1", "--exit-after-demo");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("destinations: none (demo mode)").contains("demo: sent study 1")
                .contains("demo: SR " + dir.resolve("var").toAbsolutePath().resolve("results"));
        String sr = r.out().lines().filter(l -> l.startsWith("demo: SR ")).findFirst().orElseThrow()
                .substring("demo: SR ".length()).replaceAll(" \\(suggested priority .*\\)$", "");
        assertThat(r.out()).contains("findings called present:");
        assertThat(Path.of(sr)).isRegularFile();
        // The first start makes a worklist admin whose password only its owner can read, never printed or logged.
        Path initial = dir.resolve("var").toAbsolutePath().resolve("initial-admin-password");
        assertThat(r.out()).containsPattern("worklist: http://127\\.0\\.0\\.1:\\d+/worklist/ \\(first start: log in as "
                + "admin with the password in " + java.util.regex.Pattern.quote(initial.toString()));
        assertThat(java.nio.file.Files.getPosixFilePermissions(initial)).containsExactlyInAnyOrder(
                java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        String password = java.nio.file.Files.readString(initial).trim();
        assertThat(password).hasSizeGreaterThanOrEqualTo(20);
        assertThat(r.out() + r.err()).doesNotContain(password);
    }

    @Test
    void aBadValueStopsStartUpNamingTheKey() throws Exception {
        Path config = dir.resolve("bad.properties");
        Files.writeString(config, "assembly.quiet-period=never\n");
        CommandLineTest.Run r = CommandLineTest.run("serve", "--config", config.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("TRIAGE-0612").contains("assembly.quiet-period").contains("1s to 1h");
    }

    @Test
    void aPortInUseIsReportedWithItsCode() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Path config = dir.resolve("busy.properties");
            Files.writeString(config, "node.data-dir=" + dir.resolve("var") + "\nhttp.port=0\ndicom.port=" + taken.getLocalPort()
                    + "\n");
            System.setProperty("ct-triage.home", Path.of("..").toAbsolutePath().normalize().toString());
            CommandLineTest.Run r = CommandLineTest.run("serve", "--config", config.toString(), "--demo-studies", "0");
            assertThat(r.exitCode()).isEqualTo(CtTriageCommand.EXIT_TRIAGE_FAILURE);
            assertThat(r.err()).contains("TRIAGE-0607").contains(Integer.toString(taken.getLocalPort()));
        }
    }

    @Test
    void echoChecksAPeer() throws Exception {
        try (StoreScp pacs = StoreScp.start("PACS", dir.resolve("pacs"))) {
            CommandLineTest.Run ok = CommandLineTest.run("echo", "PACS@127.0.0.1:" + pacs.port());
            assertThat(ok.exitCode()).as(ok.err()).isZero();
            assertThat(ok.out()).contains("C-ECHO PACS@127.0.0.1:" + pacs.port() + ": Success");
        }
        CommandLineTest.Run refused = CommandLineTest.run("echo", "PACS@127.0.0.1:" + LoopbackPorts.free());
        assertThat(refused.exitCode()).isEqualTo(CtTriageCommand.EXIT_TRIAGE_FAILURE);
        assertThat(refused.err()).contains("TRIAGE-0613");
        assertThat(CommandLineTest.run("echo", "not-an-address").exitCode()).isEqualTo(2);
    }

    @Test
    void echoUsesTheNodesOutboundTlsAndItsPins() throws Exception {
        TlsKeys keys = TlsKeys.create(Files.createDirectories(dir.resolve("keys")));
        try (StoreScp pacs = StoreScp.startTls("PACS", dir.resolve("pacs"), keys.serverKey(), keys.serverCertificate(),
                keys.clientKey(), keys.clientCertificate())) {
            String tls = "delivery.tls.trust-store=" + keys.serverTrustStore() + "\ndelivery.tls.trust-store-password="
                    + TlsKeys.PASSWORD + "\ndelivery.tls.key-store=" + keys.clientKeyStore()
                    + "\ndelivery.tls.key-store-password=" + TlsKeys.PASSWORD + "\n";
            Path config = Files.writeString(dir.resolve("tls.properties"), tls);
            CommandLineTest.Run ok = CommandLineTest.run("echo", "--config", config.toString(),
                    "PACS@127.0.0.1:" + pacs.port());
            assertThat(ok.exitCode()).as(ok.err()).isZero();
            assertThat(ok.out()).contains("C-ECHO PACS@127.0.0.1:" + pacs.port() + " (TLS): Success");

            Path pinned = Files.writeString(dir.resolve("pinned.properties"), tls
                    + "delivery.tls.pinned-certificates=PACS=" + TlsKeys.sha256(keys.elsewhereCertificate()) + "\n");
            CommandLineTest.Run refused = CommandLineTest.run("echo", "--config", pinned.toString(),
                    "PACS@127.0.0.1:" + pacs.port());
            assertThat(refused.exitCode()).isEqualTo(CtTriageCommand.EXIT_TRIAGE_FAILURE);
            assertThat(refused.err()).startsWith("TRIAGE-0633 C-ECHO to PACS@127.0.0.1:" + pacs.port() + " refused: ");

            CommandLineTest.Run plain = CommandLineTest.run("echo", "PACS@127.0.0.1:" + pacs.port());
            assertThat(plain.exitCode()).as("plain TCP to a TLS peer").isEqualTo(CtTriageCommand.EXIT_TRIAGE_FAILURE);
        }
    }
}
