package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.cttriage.fhir.delivery.FhirExporter;
import org.cttriage.fhir.delivery.InProcessFhirServer;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.junit.ArtemisServer;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.LoopbackPorts;
import org.cttriage.testdata.junit.PostgresServer;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The multi-node mode with real processes on 127.0.0.1: PostgreSQL, an Artemis broker, two receivers and two
 * workers ({@code ct-triage serve} processes sharing one data folder), and a storescp as the PACS. Studies sent to
 * both receivers, concurrently, one of them split over both, get exactly one SR each at the PACS; a worker killed
 * with SIGKILL while studies wait loses none of them, nor do both workers killed during a delivery, the broker
 * killed and restarted while studies arrive, or a receiver killed during an association (the sender sends again); the
 * leader's duties move when the leader is killed; the FHIR server gets one DiagnosticReport per study.
 */
@Tag("interop")
@RequiresTools({"storescu", "storescp", "echoscu", PostgresServer.BIN + "/pg_ctl"})
class ClusterTest {
    private static final Duration WAIT = Duration.ofSeconds(180);

    @TempDir
    Path dir;

    private final List<AutoCloseable> running = new ArrayList<>();
    private StoreScp pacs;

    @AfterEach
    void stop() throws Exception {
        for (int i = running.size() - 1; i >= 0; i--) {
            running.get(i).close();
        }
        if (pacs != null) {
            pacs.close();
        }
    }

    @Test
    void everyStudyGetsOneSrWhateverReceivedItAndAWorkerOrTheLeaderMayDie() throws Exception {
        PostgresServer postgres = PostgresServer.start(dir);
        running.add(postgres);
        ArtemisServer broker = ArtemisServer.create(dir);
        running.add(broker);
        int pacsPort = LoopbackPorts.free();
        pacs = StoreScp.start("PACS", dir.resolve("pacs"), pacsPort, true);
        InProcessFhirServer fhir = new InProcessFhirServer(FhirExporter.context());
        running.add(fhir);
        Path shared = dir.resolve("shared");
        List<String> common = List.of("node.data-dir=" + shared, "http.port=0", "assembly.quiet-period=2s",
                "dicom.min-free-disk-mb=1", "delivery.dicom-destinations=PACS@127.0.0.1:" + pacsPort,
                "fhir.url=" + fhir.base(), "cluster.delivery-claim=PT20S",
                "database.url=" + postgres.jdbcUrl(), "database.user=" + PostgresServer.USER,
                "cluster.broker-url=" + broker.url(), "cluster.broker-user=" + broker.user(),
                "cluster.broker-password=" + broker.password(), "cluster.leader-check=PT1S");
        int r1Port = LoopbackPorts.free();
        int r2Port = LoopbackPorts.free();
        NodeProcess r1 = node("r1", "receiver", r1Port, common);
        NodeProcess r2 = node("r2", "receiver", r2Port, common);
        NodeProcess w1 = node("w1", "worker", -1, common);
        NodeProcess w2 = node("w2", "worker", -1, common);
        // A worker whose data folder is not the shared one (a missing mount) refuses to start, saying why.
        List<String> ownFolder = new ArrayList<>(common);
        ownFolder.set(0, "node.data-dir=" + dir.resolve("not-shared"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> node("w9", "worker", -1, ownFolder))
                .hasMessageContaining("TRIAGE-0612").hasMessageContaining("not this cluster's shared data folder");

        // 20 studies, half to each receiver, two associations at a time; one more split over both receivers.
        List<CtSeriesWriter.WrittenSeries> studies = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            studies.add(study(5100 + i));
        }
        ExecutorService senders = Executors.newFixedThreadPool(2);
        List<Future<?>> sent = new ArrayList<>();
        for (int i = 0; i < studies.size(); i++) {
            CtSeriesWriter.WrittenSeries s = studies.get(i);
            int port = i % 2 == 0 ? r1Port : r2Port;
            sent.add(senders.submit(() -> send(s.files(), port)));
        }
        CtSeriesWriter.WrittenSeries split = study(5200);
        int half = split.files().size() / 2;
        send(split.files().subList(0, half), r1Port);
        send(split.files().subList(half, split.files().size()), r2Port);
        for (Future<?> f : sent) {
            f.get();
        }
        senders.shutdown();
        List<CtSeriesWriter.WrittenSeries> all = new ArrayList<>(studies);
        all.add(split);
        awaitOneSrEach(pacs, all);
        for (NodeProcess w : List.of(w1, w2)) {
            assertThat(w.log()).as("both workers took studies from the queue").contains("triaged: priority");
        }
        for (NodeProcess r : List.of(r1, r2)) {
            assertThat(r.log()).as("receivers never triage").doesNotContain("triaged: priority")
                    .doesNotContain("instances started");
        }

        // A worker dies with SIGKILL while studies wait for triage: the other takes its unacknowledged study.
        List<CtSeriesWriter.WrittenSeries> more = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            more.add(study(5300 + i));
        }
        long startedBefore = countStarted(w1.log());
        for (CtSeriesWriter.WrittenSeries s : more) {
            send(s.files(), r1Port);
        }
        Eventually.awaitTrue(WAIT, "w1 triaging one of them", () -> countStarted(w1.log()) > startedBefore);
        w1.kill();
        long w2Before = countStarted(w2.log());
        all.addAll(more);
        awaitOneSrEach(pacs, all);
        assertThat(countStarted(w2.log())).as("w2 triaged what w1 left").isGreaterThan(w2Before);

        // Both workers die with SIGKILL while a delivery is being attempted (a PACS that accepts and never answers):
        // once the dead worker's claim runs out (cluster.delivery-claim), a restarted worker delivers it.
        w1.restart();
        pacs.close();
        try (HungPeer hung = new HungPeer(pacsPort)) {
            CtSeriesWriter.WrittenSeries during = study(5500);
            send(during.files(), r2Port);
            Eventually.awaitTrue(WAIT, "the SR's delivery under way", () -> hung.accepted() > 0
                    && claimedDeliveries(postgres, during.studyInstanceUid()) > 0);
            w1.kill();
            w2.kill();
            all.add(during);
        }
        pacs = StoreScp.start("PACS", dir.resolve("pacs"), pacsPort, true);
        w1.restart();
        w2.restart();
        awaitOneSrEach(pacs, all);

        // The broker is killed (SIGKILL) while studies arrive: the receivers keep receiving, the outbox keeps the
        // completions, and once the broker is back the workers' consumers reconnect and triage them.
        broker.kill();
        List<CtSeriesWriter.WrittenSeries> whileDown = List.of(study(5600), study(5601), study(5602));
        for (int i = 0; i < whileDown.size(); i++) {
            send(whileDown.get(i).files(), i % 2 == 0 ? r1Port : r2Port);
        }
        Thread.sleep(5000); // quiet periods pass: the leader queues them into the outbox, which cannot drain
        broker.start();
        all.addAll(whileDown);
        awaitOneSrEach(pacs, all);

        // A receiver dies with SIGKILL in the middle of an association: the sender's failed association is sent
        // again, to the other receiver, as a PACS would; the instances the dead one had acknowledged count once.
        CtSeriesWriter.WrittenSeries interrupted = study(5700, 256, 100);
        Process storescu = new ProcessBuilder(storescu(interrupted.files(), r2Port)).redirectErrorStream(true)
                .redirectOutput(dir.resolve("storescu-interrupted.log").toFile()).start();
        Eventually.awaitTrue(WAIT, "r2 receiving the study", () -> spooled(postgres, interrupted.studyInstanceUid()) >= 5);
        r2.kill();
        assertThat(storescu.waitFor()).as("the association broke off (storescu failed)").isNotZero();
        send(interrupted.files(), r1Port);
        r2.restart();
        all.add(interrupted);
        awaitOneSrEach(pacs, all);

        // The leader dies: another node takes the singleton duties, and a new study is still found complete.
        NodeProcess leader = Eventually.await(WAIT, "a leader among the living", () -> List.of(r1, r2, w1, w2).stream()
                .filter(ClusterTest::isLeader).findFirst(), java.util.Optional::isPresent).orElseThrow();
        leader.kill();
        CtSeriesWriter.WrittenSeries last = study(5800);
        send(last.files(), leader == r1 ? r2Port : r1Port);
        all.add(last);
        awaitOneSrEach(pacs, all);
        List<NodeProcess> living = List.of(r1, r2, w1, w2).stream().filter(n -> n != leader).toList();
        assertThat(living.stream().anyMatch(ClusterTest::isLeader)).as("a surviving node leads").isTrue();
        // Their metrics say the same: one leader, and an outbox the broker has emptied.
        Eventually.await(WAIT, "one leader and an empty outbox in the metrics", () -> {
            double leaders = 0;
            double outbox = 0;
            for (NodeProcess n : living) {
                String scrape = scrape(n);
                leaders += metric(scrape, "cttriage_cluster_leader");
                outbox = metric(scrape, "cttriage_outbox_messages");
            }
            return List.of(leaders, outbox);
        }, v -> v.equals(List.of(1.0, 0.0)));

        // The FHIR server has one DiagnosticReport per study (conditional updates by the study's identifier).
        Eventually.await(WAIT, "a DiagnosticReport for each of " + all.size() + " studies", () -> fhir.reports().size(),
                n -> n >= all.size());
        assertThat(fhir.reports()).hasSize(all.size());
    }

    /** The node's /metrics (its HTTP port, 0 in the configuration, is in its log). */
    private static String scrape(NodeProcess n) throws Exception {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("health: http://127\\.0\\.0\\.1:(\\d+)/")
                .matcher(n.log());
        String port = null;
        while (m.find()) {
            port = m.group(1); // the last start's
        }
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    private static double metric(String scrape, String name) {
        return scrape.lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l -> Double.parseDouble(
                l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElseThrow(() -> new AssertionError(name
                + " not in the scrape"));
    }

    /** A peer that accepts TCP connections and never answers: an attempt to it hangs until its timeouts. */
    private static final class HungPeer implements AutoCloseable {
        private final java.net.ServerSocket server;
        private final List<java.net.Socket> held = new java.util.concurrent.CopyOnWriteArrayList<>();

        HungPeer(int port) throws java.io.IOException {
            server = new java.net.ServerSocket();
            server.setReuseAddress(true);
            server.bind(new java.net.InetSocketAddress(LoopbackPorts.HOST, port));
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        held.add(server.accept());
                    }
                } catch (java.io.IOException closed) {
                    // closed
                }
            }, "hung-peer");
            t.setDaemon(true);
            t.start();
        }

        int accepted() {
            return held.size();
        }

        @Override
        public void close() throws java.io.IOException {
            server.close();
            for (java.net.Socket s : held) {
                s.close();
            }
        }
    }

    private static int claimedDeliveries(PostgresServer postgres, String study) throws Exception {
        return count(postgres, "SELECT COUNT(*) FROM node_delivery d JOIN node_result r ON d.result_id = r.id"
                + " WHERE r.study_uid = ? AND d.destination <> 'fhir' AND d.state = 'PENDING'"
                + " AND d.claimed_until IS NOT NULL", study);
    }

    private static int spooled(PostgresServer postgres, String study) throws Exception {
        return count(postgres, "SELECT COUNT(*) FROM node_instance WHERE study_uid = ?", study);
    }

    private static int count(PostgresServer postgres, String sql, String study) throws Exception {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(postgres.jdbcUrl(), PostgresServer.USER, "");
             java.sql.PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, study);
            try (java.sql.ResultSet r = s.executeQuery()) {
                r.next();
                return r.getInt(1);
            }
        }
    }

    private static long countStarted(String log) {
        return log.lines().filter(l -> l.contains("instances started")).count();
    }

    private static boolean isLeader(NodeProcess n) {
        try {
            String log = n.log();
            return log.lastIndexOf("is now the leader") > log.lastIndexOf("is no longer the leader");
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private NodeProcess node(String name, String role, int port, List<String> common) throws Exception {
        List<String> settings = new ArrayList<>(common);
        settings.add("node.role=" + role);
        settings.add("cluster.node-name=" + name);
        if (port > 0) {
            settings.add("dicom.port=" + port);
        }
        Path config = dir.resolve(name + ".properties");
        Files.write(config, settings);
        NodeProcess n = NodeProcess.start(config, dir.resolve(name + ".log"), port, WAIT);
        running.add(n);
        return n;
    }

    private CtSeriesWriter.WrittenSeries study(long seed) throws Exception {
        return study(seed, 64, 20);
    }

    private CtSeriesWriter.WrittenSeries study(long seed, int matrix, int slices) throws Exception {
        PhantomSpec spec = new PhantomSpec(seed, matrix, matrix, slices, 400.0 / matrix, 200.0 / slices,
                200.0 / slices, ContrastPhase.NONE, Set.of(), false);
        return new CtSeriesWriter().write(new PhantomGenerator().generate(spec), SeriesWriteOptions.defaults(),
                dir.resolve("studies").resolve(Long.toString(seed)));
    }

    private static List<String> storescu(List<Path> files, int port) {
        List<String> command = new ArrayList<>(List.of("storescu", "-aec", "CTTRIAGE", "127.0.0.1",
                Integer.toString(port)));
        files.forEach(f -> command.add(f.toString()));
        return command;
    }

    private static Void send(List<Path> files, int port) throws Exception {
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(60), storescu(files, port)
                .toArray(String[]::new));
        assertThat(r.exitCode()).as(r.output()).isZero();
        return null;
    }

    /**
     * Waits until every study has an SR at the PACS, then checks that none has two (a few seconds later too). An SR is
     * counted once per SOP Instance UID: a delivery repeated after a worker died between the PACS's answer and
     * recording it stores the same instance again, which a PACS keeps as one.
     */
    private static void awaitOneSrEach(StoreScp pacs, List<CtSeriesWriter.WrittenSeries> studies) throws Exception {
        Set<String> wanted = new java.util.HashSet<>();
        studies.forEach(s -> wanted.add(s.studyInstanceUid()));
        Eventually.await(WAIT, "an SR for each of " + wanted.size() + " studies", () -> srsByStudy(pacs).keySet(),
                got -> got.containsAll(wanted));
        Thread.sleep(5000);
        Map<String, Integer> srs = srsByStudy(pacs);
        assertThat(srs.keySet()).containsAll(wanted);
        assertThat(srs).allSatisfy((study, n) -> assertThat(n).as("SRs of study %s", study).isEqualTo(1));
    }

    private static Map<String, Integer> srsByStudy(StoreScp pacs) throws Exception {
        Map<String, Set<String>> uids = new HashMap<>();
        for (Path f : pacs.receivedFiles()) {
            AttributeList a = new AttributeList();
            a.read(f.toFile());
            if ("SR".equals(com.pixelmed.dicom.Attribute.getSingleStringValueOrEmptyString(a, TagFromName.Modality))) {
                uids.computeIfAbsent(com.pixelmed.dicom.Attribute.getSingleStringValueOrEmptyString(a,
                        TagFromName.StudyInstanceUID), k -> new java.util.HashSet<>()).add(
                        com.pixelmed.dicom.Attribute.getSingleStringValueOrEmptyString(a, TagFromName.SOPInstanceUID));
            }
        }
        Map<String, Integer> out = new HashMap<>();
        uids.forEach((study, srs) -> out.put(study, srs.size()));
        return out;
    }
}
