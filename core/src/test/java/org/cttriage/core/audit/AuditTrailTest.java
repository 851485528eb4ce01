package org.cttriage.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.cttriage.core.audit.AuditEvents.Patient;
import org.cttriage.core.audit.AuditEvents.Peer;
import org.cttriage.core.audit.AuditEvents.StudyInstances;
import org.cttriage.core.audit.AuditMessage.Outcome;
import org.cttriage.core.audit.AuditOptions.Protocol;
import org.cttriage.testdata.audit.AuditSchema;
import org.cttriage.testdata.audit.SyslogMessage;
import org.cttriage.testdata.audit.SyslogServer;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.LoopbackPorts;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.TlsKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit trail against a syslog collector in the test, over TCP, TLS (with client
 * certificates) and UDP: framing and RFC 5424 header parsed strictly, every message validated
 * against PS3.15 A.5.1; a collector that goes away and comes back gets every spooled message, in
 * order; a full spool drops new messages and says so in the trail; a collector that stops reading
 * never holds up the caller.
 */
@RequiresTools({"keytool", "openssl"})
class AuditTrailTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final AuditOptions.Timing FAST = new AuditOptions.Timing(Duration.ofSeconds(2), Duration.ofMillis(500),
            Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofMillis(50), Duration.ofSeconds(1));
    static final AuditEvents EVENTS = new AuditEvents(AuditEvents.Reporter.local("CTTRIAGE", Optional.empty(),
            "CTTRIAGE", "ct-triage test"), Clock.systemUTC());

    @TempDir
    Path dir;

    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closed(T c) {
        closing.add(c);
        return c;
    }

    private AuditTrail trail(Protocol protocol, int port, Optional<AuditOptions.Tls> tls, long spoolMax)
            throws Exception {
        AuditOptions options = new AuditOptions(Optional.of(new AuditOptions.Syslog("127.0.0.1", port, protocol, tls)),
                Optional.empty(), dir.resolve("spool"), spoolMax, FAST);
        return closed(AuditTrail.start(options, EVENTS, Clock.systemUTC()));
    }

    /** A numbered message: a transfer from "PACS<n>", so order and identity can be read back. */
    static AuditMessage numbered(int n) {
        return EVENTS.instancesReceived(new Peer("PACS" + n, "10.0.0." + (n % 250 + 1)), new StudyInstances(
                "1.2.3." + n, new Patient("PID" + n, "", "Doe^Jane"), List.of(), java.util.Map.of(
                        "1.2.840.10008.5.1.4.1.1.2", n + 1)), false, java.time.Instant.now(), Outcome.SUCCESS,
                Optional.empty());
    }

    static List<String> senders(SyslogServer server) throws Exception {
        List<String> senders = new ArrayList<>();
        for (SyslogMessage m : server.messages()) {
            senders.add(AuditXmlAssert.of(m.msg()).get("//ActiveParticipant[RoleIDCode/@csd-code='110153']/@UserID"));
        }
        return senders;
    }

    static List<String> pacs(int from, int to) {
        return IntStream.range(from, to).mapToObj(n -> "PACS" + n).toList();
    }

    private static void awaitCount(SyslogServer server, int n) throws InterruptedException {
        Eventually.await(WAIT, () -> n + " messages at the collector (errors " + server.errors() + ")", server::messages,
                m -> m.size() >= n);
    }

    @Test
    void tcpFramesEveryMessageAsRfc5424WithTheSchemasXml() throws Exception {
        SyslogServer server = closed(SyslogServer.tcp(SyslogServer.Mode.READING));
        AuditTrail trail = trail(Protocol.TCP, server.port(), Optional.empty(), 1 << 20);
        for (int i = 0; i < 20; i++) {
            trail.record(numbered(i));
        }
        trail.record(EVENTS.association(new Peer("INTRUDER", "10.9.9.9"), "CTTRIAGE", false, "rejected"));
        awaitCount(server, 21);
        assertThat(server.errors()).isEmpty();
        for (SyslogMessage m : server.messages()) {
            assertThat(m.facility()).isEqualTo(10);
            assertThat(m.appName()).isEqualTo("ct-triage");
            assertThat(m.msgId()).isEqualTo("DICOM+RFC3881");
            assertThat(m.procId()).isEqualTo(Long.toString(ProcessHandle.current().pid()));
            assertThat(m.structuredData()).isEqualTo("-");
            assertThat(m.utf8Bom()).isTrue();
            assertThat(m.timestamp()).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z");
            AuditSchema.assertValid(m.msg());
        }
        // Notice (5) for success, warning (4) for the rejected association.
        assertThat(server.messages()).extracting(SyslogMessage::severity).containsOnly(5, 4);
        assertThat(server.messages().get(20).severity()).isEqualTo(4);
        assertThat(senders(server).subList(0, 20)).isEqualTo(pacs(0, 20));
        Eventually.await(WAIT, "the spool emptied", trail::spooled, n -> n == 0);
    }

    @Test
    void tlsWithClientCertificates() throws Exception {
        TlsKeys keys = TlsKeys.create(Files.createDirectories(dir.resolve("keys")));
        char[] password = TlsKeys.PASSWORD.toCharArray();
        SyslogServer server = closed(SyslogServer.tls(keys.serverKeyStore(), keys.clientTrustStore(), password));
        AuditTrail trail = trail(Protocol.TLS, server.port(), Optional.of(new AuditOptions.Tls(keys.serverTrustStore(),
                password, Optional.of(keys.clientKeyStore()), password)), 1 << 20);
        for (int i = 0; i < 5; i++) {
            trail.record(numbered(i));
        }
        awaitCount(server, 5);
        assertThat(server.errors()).isEmpty();
        assertThat(server.clientPrincipals()).first().asString().contains("CN=pacs");
        assertThat(senders(server)).isEqualTo(pacs(0, 5));
        for (SyslogMessage m : server.messages()) {
            AuditSchema.assertValid(m.msg());
        }
    }

    @Test
    void tlsToACollectorWhoseCertificateIsNotTrustedSendsNothingAndKeepsTheSpool() throws Exception {
        TlsKeys keys = TlsKeys.create(Files.createDirectories(dir.resolve("keys")));
        char[] password = TlsKeys.PASSWORD.toCharArray();
        SyslogServer server = closed(SyslogServer.tls(keys.serverKeyStore(), null, password));
        // clientTrustStore trusts only the client certificate, not the collector's.
        AuditTrail trail = trail(Protocol.TLS, server.port(), Optional.of(new AuditOptions.Tls(keys.clientTrustStore(),
                password, Optional.empty(), password)), 1 << 20);
        trail.record(numbered(1));
        Eventually.await(WAIT, "the message spooled", trail::spooled, n -> n == 1);
        assertThat(server.messages()).isEmpty();
        assertThat(trail.spooled()).isEqualTo(1);
    }

    @Test
    void udpOneMessagePerDatagram() throws Exception {
        SyslogServer server = closed(SyslogServer.udp());
        AuditTrail trail = trail(Protocol.UDP, server.port(), Optional.empty(), 1 << 20);
        for (int i = 0; i < 5; i++) {
            trail.record(numbered(i));
        }
        awaitCount(server, 5);
        assertThat(server.errors()).isEmpty();
        assertThat(senders(server)).containsExactlyInAnyOrderElementsOf(pacs(0, 5));
        for (SyslogMessage m : server.messages()) {
            AuditSchema.assertValid(m.msg());
        }
    }

    @Test
    void aCollectorThatGoesAwayAndComesBackGetsEveryMessageInOrder() throws Exception {
        SyslogServer server = closed(SyslogServer.tcp(SyslogServer.Mode.READING));
        AuditTrail trail = trail(Protocol.TCP, server.port(), Optional.empty(), 1 << 20);
        for (int i = 0; i < 10; i++) {
            trail.record(numbered(i));
        }
        awaitCount(server, 10);
        // Gone, with the connection open on our side: the next writes must not vanish into it.
        server.stop();
        for (int i = 10; i < 40; i++) {
            trail.record(numbered(i));
        }
        Eventually.await(WAIT, "30 messages spooled while the collector is away", trail::spooled, n -> n == 30);
        server.restart();
        awaitCount(server, 40);
        assertThat(senders(server)).isEqualTo(pacs(0, 40));
        assertThat(server.errors()).isEmpty();
        Eventually.await(WAIT, "the spool emptied", trail::spooled, n -> n == 0);
    }

    @Test
    void aSpoolLeftByAnEarlierRunIsSentFirstAtTheNextStart() throws Exception {
        int port = LoopbackPorts.free();
        AuditTrail first = trail(Protocol.TCP, port, Optional.empty(), 1 << 20);
        for (int i = 0; i < 5; i++) {
            first.record(numbered(i));
        }
        Eventually.await(WAIT, "5 spooled", first::spooled, n -> n == 5);
        first.close();
        try (SyslogServer server = SyslogServer.tcp(SyslogServer.Mode.READING)) {
            AuditTrail second = trail(Protocol.TCP, server.port(), Optional.empty(), 1 << 20);
            second.record(numbered(5));
            awaitCount(server, 6);
            assertThat(senders(server)).isEqualTo(pacs(0, 6));
        }
    }

    @Test
    void aFullSpoolDropsNewMessagesAndRecordsAuditRecordingStoppedThenStarted() throws Exception {
        int port = LoopbackPorts.free();
        int size = AuditXml.write(numbered(10)).length + 200;
        // Room for 5 messages; the collector is not there yet.
        AuditTrail trail = trail(Protocol.TCP, port, Optional.empty(), 5L * size);
        for (int i = 10; i < 20; i++) {
            trail.record(numbered(i));
        }
        // 5 kept, then the "Audit Recording Stopped" alert (spooled beyond the limit, once), 5 dropped.
        Eventually.await(WAIT, "the spool filled", trail::spooled, n -> n == 6);
        Eventually.await(WAIT, "the writer done", trail::queued, n -> n == 0);
        assertThat(trail.spooled()).isEqualTo(6);
        SyslogServer collector = closed(restartOn(port));
        awaitCount(collector, 6);
        Eventually.await(WAIT, "the spool drained", trail::spooled, n -> n == 0);
        trail.record(numbered(20));
        awaitCount(collector, 8);
        List<SyslogMessage> got = collector.messages();
        assertThat(senders(collector).subList(0, 5)).isEqualTo(pacs(10, 15));
        AuditXmlAssert stopped = AuditXmlAssert.of(got.get(5).msg());
        assertThat(stopped.get("//EventTypeCode/@csd-code")).isEqualTo("110133");
        assertThat(stopped.get("//EventIdentification/@EventOutcomeIndicator")).isEqualTo("8");
        AuditXmlAssert started = AuditXmlAssert.of(got.get(6).msg());
        assertThat(started.get("//EventTypeCode/@csd-code")).isEqualTo("110134");
        assertThat(started.get("//EventOutcomeDescription")).contains("5 audit message(s) were dropped");
        assertThat(senders(collector).get(7)).isEqualTo("PACS20");
    }

    /** A TCP collector on {@code port}, the one the trail was told to use (free until now). */
    private static SyslogServer restartOn(int port) throws Exception {
        return Eventually.await(WAIT, "a collector bound to port " + port, () -> SyslogServer.tcpOn(port),
                s -> s != null);
    }

    @Test
    @Timeout(120)
    void aCollectorThatStopsReadingNeverHoldsUpTheCaller() throws Exception {
        SyslogServer hanging = closed(SyslogServer.tcp(SyslogServer.Mode.HANGING));
        AuditTrail trail = trail(Protocol.TCP, hanging.port(), Optional.empty(), 256L << 20);
        // Far more than one connection's socket buffers hold (some 12 MB): the sender blocks in a write,
        // the caller does not.
        int n = 5000;
        for (int i = 0; i < n; i++) {
            trail.record(numbered(i));
        }
        // Every message recorded is durable in the spool, except those written into the stuck connection.
        Eventually.await(WAIT, "the writer done", trail::queued, q -> q == 0);
        assertThat(trail.spooled()).isPositive().isLessThanOrEqualTo(n);
        trail.close();
        // The next run, against a collector that reads, sends what was left, oldest first.
        hanging.stop();
        SyslogServer reading = closed(SyslogServer.tcp(SyslogServer.Mode.READING));
        int left;
        try (AuditTrail next = AuditTrail.start(new AuditOptions(Optional.of(new AuditOptions.Syslog("127.0.0.1",
                reading.port(), Protocol.TCP, Optional.empty())), Optional.empty(), dir.resolve("spool"), 256L << 20,
                FAST), EVENTS, Clock.systemUTC())) {
            left = next.spooled();
            awaitCount(reading, left);
            List<String> senders = senders(reading);
            assertThat(senders).isEqualTo(pacs(n - left, n));
        }
    }

    @Test
    void theAuditFileHasOneValidMessagePerLine() throws Exception {
        Path file = dir.resolve("audit").resolve("audit.log");
        AuditOptions options = new AuditOptions(Optional.empty(), Optional.of(file), dir.resolve("spool"), 1 << 20, FAST);
        try (AuditTrail trail = AuditTrail.start(options, EVENTS, Clock.systemUTC())) {
            for (int i = 0; i < 7; i++) {
                trail.record(numbered(i));
            }
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(7);
        List<String> senders = new ArrayList<>();
        for (String line : lines) {
            senders.add(AuditXmlAssert.of(line.getBytes(StandardCharsets.UTF_8))
                    .get("//ActiveParticipant[RoleIDCode/@csd-code='110153']/@UserID"));
        }
        assertThat(senders).isEqualTo(pacs(0, 7));
    }

    @Test
    void aSecondProcessLeavesItsMessagesForTheSenderThatHoldsTheSpool() throws Exception {
        SyslogServer server = closed(SyslogServer.tcp(SyslogServer.Mode.READING));
        AuditTrail node = trail(Protocol.TCP, server.port(), Optional.empty(), 1 << 20);
        node.record(numbered(0));
        awaitCount(server, 1);
        // A command (ct-triage dead-letters) with the same configuration: its sender finds the spool
        // held, writes its message into it, and the node's sender delivers it.
        try (AuditTrail command = AuditTrail.start(new AuditOptions(Optional.of(new AuditOptions.Syslog("127.0.0.1",
                LoopbackPorts.free(), Protocol.TCP, Optional.empty())), Optional.empty(), dir.resolve("spool"), 1 << 20,
                FAST), EVENTS, Clock.systemUTC())) {
            command.record(numbered(1));
        }
        awaitCount(server, 2);
        assertThat(senders(server)).isEqualTo(pacs(0, 2));
    }
}
