package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.LoopbackPorts;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue "Hardening", load: a real node process receives 16 studies on 16 concurrent
 * associations (dcmtk storescu), then a burst of 20 more on 4 concurrent associations. Every
 * study gets exactly one SR at the PACS (storescp keeps each object in its own file), no
 * instance is lost (every one acknowledged and recorded), and the process' peak resident
 * memory stays bounded; the figure is printed for docs/benchmarks.md.
 */
@RequiresTools({"storescu", "storescp", "echoscu"})
class NodeLoadTest {
    private static final Duration WAIT = Duration.ofSeconds(300);
    private static final int SLICES = 30;
    private static final int CONCURRENT = 16;
    private static final int BURST = 20;
    private static final int BURST_ASSOCIATIONS = 4;
    /** -Xmx1g heap plus ONNX Runtime's native arenas and the JVM's own: far above this is a leak. */
    private static final long MAX_PEAK_RSS_KIB = 3L * 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void everyStudyOfConcurrentAssociationsAndABurstGetsExactlyOneSr() throws Exception {
        int nodePort = LoopbackPorts.free();
        int pacsPort = LoopbackPorts.free();
        Files.writeString(dir.resolve("node.properties"), String.join("\n",
                "node.data-dir=" + dir.resolve("var"),
                "dicom.port=" + nodePort,
                "http.port=0",
                "assembly.quiet-period=2s",
                "delivery.dicom-destinations=PACS@127.0.0.1:" + pacsPort,
                "dicom.min-free-disk-mb=1", ""));
        List<List<Path>> studies = new ArrayList<>();
        for (int i = 0; i < CONCURRENT + BURST; i++) {
            studies.add(PhantomSeries.write(100 + i, 64, SLICES, 10, dir.resolve("ct-" + i)).files());
        }
        ExecutorService senders = Executors.newFixedThreadPool(CONCURRENT);
        try (StoreScp pacs = StoreScp.start("PACS", dir.resolve("pacs"), pacsPort, true);
             NodeProcess node = NodeProcess.start(dir.resolve("node.properties"), dir.resolve("node.log"), nodePort,
                     WAIT)) {
            // 16 studies, one association each, all at once.
            List<Future<ExternalCommand.Result>> sent = new ArrayList<>();
            for (List<Path> study : studies.subList(0, CONCURRENT)) {
                sent.add(senders.submit(() -> storescu(nodePort, study)));
            }
            assertAllStored(sent, CONCURRENT * SLICES);
            // Then a burst: 20 studies over 4 associations at once.
            sent.clear();
            for (int a = 0; a < BURST_ASSOCIATIONS; a++) {
                List<Path> files = new ArrayList<>();
                for (int i = CONCURRENT + a; i < CONCURRENT + BURST; i += BURST_ASSOCIATIONS) {
                    files.addAll(studies.get(i));
                }
                sent.add(senders.submit(() -> storescu(nodePort, files)));
            }
            assertAllStored(sent, BURST * SLICES);

            List<Path> srs = Eventually.await(WAIT, () -> "36 SRs at the PACS; node log:\n" + node.tail(),
                    () -> srFiles(pacs), l -> l.size() >= CONCURRENT + BURST);
            Map<String, Integer> srsPerStudy = new HashMap<>();
            for (Path sr : srs) {
                srsPerStudy.merge(studyOf(sr), 1, Integer::sum);
            }
            List<String> sentStudies = new ArrayList<>();
            for (List<Path> study : studies) {
                sentStudies.add(studyOf(study.get(0)));
            }
            assertThat(srsPerStudy.keySet()).containsExactlyInAnyOrderElementsOf(sentStudies);
            assertThat(srsPerStudy.values()).allMatch(n -> n == 1);

            long peakRss = node.peakRssKib();
            System.out.printf("NodeLoadTest: %d studies (%d instances of 64x64) on %d + %d associations; node peak"
                    + " RSS %d MiB%n", CONCURRENT + BURST, (CONCURRENT + BURST) * SLICES, CONCURRENT,
                    BURST_ASSOCIATIONS, peakRss / 1024);
            assertThat(peakRss).isLessThan(MAX_PEAK_RSS_KIB);
            node.stop();
            // storescp lists a file only once it has closed it: wait out a store still being written when the
            // node stopped, then count exactly.
            assertThat(Eventually.await(WAIT, () -> "the PACS's SRs after the node stopped", () -> srFiles(pacs),
                    l -> l.size() >= CONCURRENT + BURST)).hasSize(CONCURRENT + BURST);
            try (Connection c = DriverManager.getConnection("jdbc:h2:" + dir.resolve("var/db/node"), "sa", "");
                 Statement s = c.createStatement()) {
                assertThat(count(s, "SELECT COUNT(*) FROM node_instance")).isEqualTo((CONCURRENT + BURST) * SLICES);
                assertThat(count(s, "SELECT COUNT(*) FROM node_result")).isEqualTo(CONCURRENT + BURST);
                assertThat(count(s, "SELECT COUNT(*) FROM node_delivery WHERE state = 'DELIVERED'"))
                        .as("deliveries not DELIVERED: %s; the node's delivery lines:%n%s",
                                undelivered(s), deliveryLines(node.log()))
                        .isEqualTo(CONCURRENT + BURST);
            }
        } finally {
            senders.shutdownNow();
        }
    }

    private static void assertAllStored(List<Future<ExternalCommand.Result>> sent, int instances) throws Exception {
        int acknowledged = 0;
        for (Future<ExternalCommand.Result> f : sent) {
            ExternalCommand.Result r = f.get();
            assertThat(r.exitCode()).as(r.output()).isZero();
            acknowledged += r.output().split("Received Store Response \\(Success\\)", -1).length - 1;
        }
        assertThat(acknowledged).isEqualTo(instances);
    }

    private static ExternalCommand.Result storescu(int port, List<Path> files) throws Exception {
        List<String> command = new ArrayList<>(Arrays.asList("storescu", "-v", "-aet", "LOAD", "-aec", "CTTRIAGE",
                "127.0.0.1", Integer.toString(port)));
        files.forEach(f -> command.add(f.toString()));
        return ExternalCommand.run(Duration.ofSeconds(240), command);
    }

    private static List<Path> srFiles(StoreScp pacs) throws Exception {
        return pacs.receivedFiles().stream().filter(p -> p.getFileName().toString().startsWith("SR")).toList();
    }

    private static String studyOf(Path file) throws Exception {
        AttributeList list = new AttributeList();
        list.read(file.toString());
        return Attribute.getSingleStringValueOrEmptyString(list, TagFromName.StudyInstanceUID);
    }

    private static List<String> undelivered(Statement s) throws Exception {
        List<String> rows = new ArrayList<>();
        try (ResultSet r = s.executeQuery(
                "SELECT id, state, attempts, last_error FROM node_delivery WHERE state <> 'DELIVERED'")) {
            while (r.next()) {
                rows.add(r.getLong(1) + " " + r.getString(2) + " after " + r.getInt(3) + " attempts: "
                        + r.getString(4));
            }
        }
        return rows;
    }

    private static String deliveryLines(String log) {
        return log.lines().filter(l -> l.contains("deliver") || l.contains("ERROR") || l.contains("WARN"))
                .collect(java.util.stream.Collectors.joining("\n"));
    }

    private static int count(Statement s, String sql) throws Exception {
        try (ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getInt(1);
        }
    }
}
