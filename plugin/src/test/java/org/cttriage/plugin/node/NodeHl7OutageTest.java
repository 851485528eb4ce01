package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.LongStringAttribute;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.ShortStringAttribute;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryScheduler;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.core.node.WorklistRepository;
import org.cttriage.core.node.RetryPolicy;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.hl7.delivery.Hl7Exporter;
import org.cttriage.hl7.delivery.Hl7Options;
import org.cttriage.hl7.delivery.TestRis;
import org.cttriage.hl7.mapping.MessageType;
import org.cttriage.hl7.mapping.OrderMessageOptions;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HL7 exporter in the delivery model, end to end: storescu sends a study to the node, dcmtk's storescp is the
 * PACS and {@link TestRis} (a real MLLP listener) the RIS. While the RIS refuses connections the SR reaches the PACS
 * at its first attempt and the HL7 delivery waits in the ledger; when the RIS is back exactly one order message
 * reaches it, naming the order the study came from. A study without an accession number still gets its SR, and its
 * HL7 delivery is a dead letter that says why.
 */
@RequiresTools({"storescu", "storescp"})
class NodeHl7OutageTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
    /** Short waits so that the outage spans several attempts in seconds; the defaults ride out an hour. */
    private static final RetryPolicy FAST = new RetryPolicy(100, Duration.ofMillis(200), 2.0, Duration.ofSeconds(1));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static InferenceEngine engine;
    private static ExecutorService pool;

    @TempDir
    Path dir;

    private StoreScp pacs;
    private TestRis ris;
    private Hl7Exporter exporter;
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
        ris = TestRis.start();
        // Every result is sent, routine included: the phantom's priority is whatever the model finds.
        dataSource = NodeDatabaseFiles.open(dir.resolve("node"));
        // As serve wires it: the study's priority under the worklist's policy.
        WorklistRepository worklist = new WorklistRepository(new NodeDatabase(dataSource));
        exporter = new Hl7Exporter(new Hl7Options(ris.host(), ris.port(), OrderMessageOptions.defaults(MessageType.ORM_O01),
                Priority.ROUTINE, Duration.ofSeconds(2), Duration.ofSeconds(5), FAST), Clock.systemUTC(),
                study -> worklist.find(study).map(WorklistRepository.Entry::priority));
        node = TriageNode.start(TriageNode.Config.defaults("CTTRIAGE", 0, dir.resolve("node"), List.of(
                                Destination.dicom("pacs", new RemoteAe("PACS", "127.0.0.1", pacs.port())),
                                Destination.hl7()))
                        .withQuietPeriod(Duration.ofSeconds(1)),
                dataSource, engine, SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool,
                List.of(new DeliveryScheduler.Lane(Destination.HL7, exporter, FAST)), Clock.systemUTC(),
                TriageNode.Observers.none());
    }

    @AfterEach
    void stop() throws Exception {
        node.close();
        exporter.close();
        dataSource.dispose();
        ris.close();
        pacs.close();
    }

    @Test
    void theSrFlowsThroughARisOutageAndTheRisGetsTheOrderChangeOnceWhenBack() throws Exception {
        List<Path> files = PhantomSeries.write(11, 64, 40, 10, dir.resolve("ct")).files();
        // As a modality that took the study from the worklist writes it.
        String accession = requestAttributes(files, "PL-778", "FI-991");

        ris.stopListening();
        assertThat(storescu(files).exitCode()).isZero();
        DeliveryLedger.Delivery sr = Eventually.await(WAIT, "the SR delivered while the RIS is down",
                () -> delivery("pacs"), d -> d != null && d.state() == DeliveryState.DELIVERED);
        assertThat(sr.attempts()).isEqualTo(1);
        DeliveryLedger.Delivery refused = Eventually.await(WAIT, "HL7 attempts refused", () -> delivery("hl7"),
                d -> d != null && d.attempts() >= 2);
        assertThat(refused.state()).isEqualTo(DeliveryState.PENDING);
        assertThat(refused.lastError()).startsWith("TRIAGE-0801 cannot connect to 127.0.0.1:" + ris.port()
                + ": connection refused");
        assertThat(ris.received()).isEmpty();

        ris.resumeListening();
        DeliveryLedger.Delivery done = Eventually.await(WAIT, "the HL7 delivery done", () -> delivery("hl7"),
                d -> d.state() == DeliveryState.DELIVERED);
        assertThat(done.attempts()).isGreaterThan(refused.attempts());
        assertThat(node.ledger().inState(DeliveryState.DELIVERED)).extracting(DeliveryLedger.Delivery::destination)
                .containsExactlyInAnyOrder("pacs", "hl7");
        assertThat(ris.received()).as("exactly one order message reached the RIS").hasSize(1);

        Priority priority = new WorklistRepository(new NodeDatabase(dataSource)).find(done.series().studyInstanceUid())
                .orElseThrow().priority();
        assertThat(priority).as("a first result: the policy takes its priority")
                .isEqualTo(JSON.readValue(done.resultJson(), TriageResult.class).suggestedPriority());
        String code = OrderMessageOptions.DEFAULT_PRIORITY_CODES.get(priority);
        List<String> segments = TestRis.segments(ris.received().get(0));
        assertThat(segments.get(0)).startsWith("MSH|^~\\&|CTTRIAGE|").contains("|ORM^O01^ORM_O01|").endsWith("|P|2.5.1");
        assertThat(segments).anySatisfy(s -> assertThat(s).startsWith("PID|1||PHANTOM-11^^^CTTRIAGE-PHANTOM"))
                .anySatisfy(s -> assertThat(s).startsWith("ORC|XO|PL-778|FI-991||||^^^^^" + code + "||"))
                .anySatisfy(s -> assertThat(s).startsWith("OBR|1|PL-778|FI-991|").contains("|" + accession + "|RP-11|")
                        .endsWith("|^^^^^" + code));
        assertThat(srFiles()).as("the SR at the PACS, once").hasSize(1);
    }

    @Test
    void aStudyWithoutAnAccessionNumberGetsItsSrAndItsHl7DeliverySaysWhyNot() throws Exception {
        List<Path> files = PhantomSeries.write(12, 64, 40, 10, dir.resolve("ct")).files();
        for (Path f : files) {
            AttributeList list = read(f);
            list.remove(TagFromName.AccessionNumber);
            list.write(f.toString(), TransferSyntax.ExplicitVRLittleEndian, true, true);
        }
        assertThat(storescu(files).exitCode()).isZero();
        DeliveryLedger.Delivery hl7 = Eventually.await(WAIT, "the HL7 delivery given up", () -> delivery("hl7"),
                d -> d != null && d.state() == DeliveryState.DEAD);
        assertThat(hl7.attempts()).isEqualTo(1);
        assertThat(hl7.lastError()).isEqualTo("TRIAGE-0803 no accession number: the RIS order cannot be found");
        Eventually.await(WAIT, "the SR delivered all the same", () -> delivery("pacs"),
                d -> d != null && d.state() == DeliveryState.DELIVERED);
        assertThat(srFiles()).hasSize(1);
        assertThat(ris.received()).isEmpty();
    }

    /** Writes a Request Attributes Sequence into every file; the study's accession number. */
    private static String requestAttributes(List<Path> files, String placer, String filler) throws Exception {
        String accession = "";
        for (Path f : files) {
            AttributeList list = read(f);
            accession = Attribute.getSingleStringValueOrEmptyString(list, TagFromName.AccessionNumber);
            AttributeList item = new AttributeList();
            put(item, new ShortStringAttribute(TagFromName.RequestedProcedureID), "RP-11");
            put(item, new LongStringAttribute(TagFromName.PlacerOrderNumberImagingServiceRequest), placer);
            put(item, new LongStringAttribute(TagFromName.FillerOrderNumberImagingServiceRequest), filler);
            SequenceAttribute request = new SequenceAttribute(TagFromName.RequestAttributesSequence);
            request.addItem(item);
            list.put(request);
            list.write(f.toString(), TransferSyntax.ExplicitVRLittleEndian, true, true);
        }
        assertThat(accession).isNotEmpty();
        return accession;
    }

    private static void put(AttributeList list, Attribute a, String value) throws Exception {
        a.addValue(value);
        list.put(a);
    }

    /** The study's delivery to {@code destination}, or null. */
    private DeliveryLedger.Delivery delivery(String destination) throws Exception {
        List<DeliveryLedger.Delivery> all = new ArrayList<>();
        for (DeliveryState s : DeliveryState.values()) {
            all.addAll(node.ledger().inState(s));
        }
        return all.stream().filter(d -> d.destination().equals(destination)).findFirst().orElse(null);
    }

    private ExternalCommand.Result storescu(List<Path> files) throws Exception {
        List<String> command = new ArrayList<>(Arrays.asList("storescu", "-aet", "STORESCU", "-aec", "CTTRIAGE",
                "127.0.0.1", Integer.toString(node.port())));
        files.forEach(f -> command.add(f.toString()));
        return ExternalCommand.run(Duration.ofSeconds(60), command);
    }

    private List<Path> srFiles() throws Exception {
        return pacs.receivedFiles().stream().filter(p -> p.getFileName().toString().startsWith("SR")).toList();
    }

    private static AttributeList read(Path file) throws Exception {
        AttributeList list = new AttributeList();
        list.read(file.toString());
        return list;
    }
}
