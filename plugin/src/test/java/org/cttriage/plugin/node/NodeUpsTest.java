package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryScheduler;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.core.node.RetryPolicy;
import org.cttriage.core.node.WorklistRepository;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.cttriage.ups.TestUpsServer;
import org.cttriage.ups.UpsExporter;
import org.cttriage.ups.UpsOptions;
import org.cttriage.ups.WorkitemMapper;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The study's UPS workitem through the node's delivery model, against {@link TestUpsServer} (which refuses any request
 * PS3.18/PS3.4 would not allow): storescu → the node → dcmtk's storescp as the PACS. While the UPS-RS server refuses
 * connections the SR reaches the PACS and the UPS delivery waits; the node is then restarted on the same data folder
 * with the delivery still pending, the server comes back, and exactly one workitem is created, referencing the SR,
 * the ledger saying DELIVERED once.
 */
@RequiresTools({"storescu", "storescp"})
class NodeUpsTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final RetryPolicy FAST = new RetryPolicy(100, Duration.ofMillis(200), 2.0, Duration.ofSeconds(1));
    private static InferenceEngine engine;
    private static ExecutorService pool;

    @TempDir
    Path dir;

    private StoreScp pacs;
    private TestUpsServer ups;
    private JdbcConnectionPool dataSource;
    private TriageNode node;

    @BeforeAll
    static void openEngine() throws Exception {
        engine = SharedEngine.cpu();
        pool = SharedEngine.pool();
    }

    @BeforeEach
    void start() throws Exception {
        pacs = StoreScp.start("PACS", dir.resolve("pacs"));
        ups = new TestUpsServer();
        startNode();
    }

    /** The node as serve wires it (UpsWiring): the study's priority under the worklist's policy. */
    private void startNode() throws Exception {
        dataSource = NodeDatabaseFiles.open(dir.resolve("node"));
        WorklistRepository worklist = new WorklistRepository(new NodeDatabase(dataSource));
        UpsOptions options = UpsOptions.fromConfig(Map.of("ups.url", ups.base().toString(), "ups.connect-timeout", "2s",
                "ups.read-timeout", "5s")::get, "PACS");
        UpsExporter exporter = new UpsExporter(options, Clock.systemUTC(), worklist::find);
        node = TriageNode.start(TriageNode.Config.defaults("CTTRIAGE", 0, dir.resolve("node"), List.of(
                                Destination.dicom("pacs", new RemoteAe("PACS", "127.0.0.1", pacs.port())),
                                Destination.ups()))
                        .withQuietPeriod(Duration.ofSeconds(1)),
                dataSource, engine, SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool,
                List.of(new DeliveryScheduler.Lane(Destination.UPS, exporter, FAST)), Clock.systemUTC(),
                TriageNode.Observers.none());
    }

    private void stopNode() {
        node.close();
        dataSource.dispose();
    }

    @AfterEach
    void stop() throws Exception {
        stopNode();
        ups.close();
        pacs.close();
    }

    @Test
    void aServerDownThenBackAcrossARestartGetsExactlyOneWorkitem() throws Exception {
        ups.stopListening();
        var series = PhantomSeries.write(31, 64, 40, 10, dir.resolve("ct"));
        List<String> command = new ArrayList<>(List.of("storescu", "-aet", "MODALITY", "-aec", "CTTRIAGE", "127.0.0.1",
                Integer.toString(node.port())));
        series.files().forEach(f -> command.add(f.toString()));
        assertThat(ExternalCommand.run(WAIT, command).exitCode()).isZero();

        DeliveryLedger.Delivery waiting = Eventually.await(WAIT, "the UPS delivery failed at least once",
                () -> delivery("ups"), d -> d != null && d.attempts() >= 1 && d.state() == DeliveryState.PENDING);
        assertThat(waiting.lastError()).startsWith("TRIAGE-0821 no answer from " + ups.base());
        Eventually.await(WAIT, "the SR delivered meanwhile", () -> delivery("pacs"),
                d -> d != null && d.state() == DeliveryState.DELIVERED);

        stopNode();
        ups.resumeListening();
        startNode();

        DeliveryLedger.Delivery done = Eventually.await(WAIT, "the UPS delivery done after the restart",
                () -> delivery("ups"), d -> d != null && d.state() == DeliveryState.DELIVERED);
        String uid = WorkitemMapper.workitemUid(series.studyInstanceUid());
        assertThat(ups.workitems()).containsOnlyKeys(uid);
        assertThat(ups.received()).filteredOn(r -> r.method().equals("POST") && r.status() == 201).hasSize(1);
        assertThat(ups.violations()).isEmpty();
        Map<String, Object> w = ups.workitems().get(uid);
        assertThat(org.cttriage.core.dicom.json.DicomJsonDataset.firstString(w, "ProcedureStepState")).contains("SCHEDULED");
        assertThat(org.cttriage.core.dicom.json.DicomJsonDataset.items(w, "InputInformationSequence")).singleElement()
                .satisfies(i -> assertThat(org.cttriage.core.dicom.json.DicomJsonDataset.items(i, "ReferencedSOPSequence"))
                        .singleElement().satisfies(s -> assertThat(org.cttriage.core.dicom.json.DicomJsonDataset
                                .firstString(s, "ReferencedSOPInstanceUID")).contains(done.srFile().getFileName()
                                .toString().replace(".dcm", ""))));
        assertThat(node.ledger().inState(DeliveryState.DELIVERED)).extracting(DeliveryLedger.Delivery::destination)
                .containsExactlyInAnyOrder("pacs", "ups");
    }

    /** The study's delivery to {@code destination}, or null. */
    private DeliveryLedger.Delivery delivery(String destination) throws Exception {
        List<DeliveryLedger.Delivery> all = new ArrayList<>();
        for (DeliveryState s : DeliveryState.values()) {
            all.addAll(node.ledger().inState(s));
        }
        return all.stream().filter(d -> d.destination().equals(destination)).findFirst().orElse(null);
    }
}
