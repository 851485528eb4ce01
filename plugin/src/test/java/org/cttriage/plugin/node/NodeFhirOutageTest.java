package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.TagFromName;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryScheduler;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.RetryPolicy;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.fhir.delivery.FhirDelivery;
import org.cttriage.fhir.delivery.FhirDeliveryOptions;
import org.cttriage.fhir.delivery.FhirExporter;
import org.cttriage.fhir.delivery.InProcessFhirServer;
import org.cttriage.fhir.mapping.FhirMappingOptions;
import org.cttriage.plugin.cli.CtTriageCommand;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;
import org.h2.jdbcx.JdbcConnectionPool;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The delivery model end to end, with a real FHIR server (HAPI's RestfulServer in-process) beside dcmtk's storescp
 * as the PACS: while the FHIR server refuses connections and then answers 503, SRs still reach the PACS as usual
 * and the FHIR delivery waits in the ledger; when the server is back every report arrives exactly once. A late
 * instance then supersedes: one new SR naming its predecessor, and on FHIR the study's one DiagnosticReport
 * replaced by its next version under the same identifier, not a second report. And a study sent as three
 * reconstructions gives one SR and one report, for the series the rules choose, with {@code studies show} saying
 * why the others were not used.
 */
@RequiresTools({"storescu", "storescp"})
class NodeFhirOutageTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
    /** Short waits so that the outage spans several attempts in seconds; the defaults ride out an hour. */
    private static final RetryPolicy FAST = new RetryPolicy(100, Duration.ofMillis(200), 2.0, Duration.ofSeconds(1));
    private static InferenceEngine engine;
    private static ExecutorService pool;

    @TempDir
    Path dir;

    private StoreScp pacs;
    private InProcessFhirServer fhir;
    private FhirDelivery delivery;
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
        fhir = new InProcessFhirServer(FhirExporter.context());
        delivery = new FhirDelivery(FhirDeliveryOptions.builder(fhir.base()).connectTimeout(Duration.ofSeconds(2))
                .readTimeout(Duration.ofSeconds(10)).deadLetterDir(dir.resolve("unused")).build(),
                FhirExporter.context(), Clock.systemUTC());
        FhirExporter exporter = new FhirExporter(delivery, FhirMappingOptions.defaults(), Clock.systemUTC());
        // As serve opens it (AUTO_SERVER): ct-triage studies reads it while the node runs.
        dataSource = NodeDatabaseFiles.open(dir.resolve("node"));
        node = TriageNode.start(TriageNode.Config.defaults("CTTRIAGE", 0, dir.resolve("node"), List.of(
                                Destination.dicom("pacs", new RemoteAe("PACS", "127.0.0.1", pacs.port())),
                                Destination.fhir()))
                        .withQuietPeriod(Duration.ofSeconds(1)),
                dataSource, engine, SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool,
                Optional.of(new DeliveryScheduler.Lane(Destination.FHIR, exporter, FAST)), Clock.systemUTC());
    }

    @AfterEach
    void stop() throws Exception {
        node.close();
        dataSource.dispose();
        delivery.close();
        fhir.close();
        pacs.close();
    }

    @Test
    void srsFlowThroughAFhirOutageAndEveryReportArrivesOnceThenASupersedingResultReplacesIt() throws Exception {
        List<Path> files = PhantomSeries.write(11, 64, 40, 10, dir.resolve("ct")).files();

        // The FHIR server is down: connections refused.
        fhir.stopListening();
        assertThat(storescu(files.subList(0, 39)).exitCode()).isZero();
        Eventually.await(WAIT, "the SR at the PACS while FHIR is down", this::srFiles, l -> l.size() == 1);
        DeliveryLedger.Delivery sr = Eventually.await(WAIT, "the SR delivery recorded", () -> delivery("pacs"),
                d -> d != null && d.state() == DeliveryState.DELIVERED);
        assertThat(sr.attempts()).isEqualTo(1);
        DeliveryLedger.Delivery refused = Eventually.await(WAIT, "FHIR attempts refused", () -> delivery("fhir"),
                d -> d != null && d.attempts() >= 2);
        assertThat(refused.state()).isEqualTo(DeliveryState.PENDING);
        assertThat(refused.lastError()).startsWith("TRIAGE-0501");

        // Back on the network, but answering 503 with Retry-After.
        fhir.resumeListening();
        fhir.unavailable(true);
        int before = refused.attempts();
        DeliveryLedger.Delivery unavailable = Eventually.await(WAIT, "FHIR attempts answered 503",
                () -> delivery("fhir"), d -> d.attempts() >= before + 2);
        assertThat(unavailable.state()).isEqualTo(DeliveryState.PENDING);
        assertThat(unavailable.lastError()).contains("HTTP 503");
        assertThat(fhir.reports()).isEmpty();

        // Back: the report arrives, once.
        fhir.unavailable(false);
        Eventually.await(WAIT, "the FHIR delivery done", () -> delivery("fhir"),
                d -> d.state() == DeliveryState.DELIVERED);
        List<DiagnosticReport> reports = fhir.reports();
        assertThat(reports).hasSize(1);
        assertThat(reports.get(0).getMeta().getVersionId()).isEqualTo("1");
        assertThat(node.ledger().inState(DeliveryState.DEAD)).isEmpty();

        // A late instance: a new SR naming its predecessor, and the same report in its next version.
        String firstSr = uid(srFiles().get(0));
        assertThat(storescu(files.subList(39, 40)).exitCode()).isZero();
        List<Path> srs = Eventually.await(WAIT, "the superseding SR", this::srFiles, l -> l.size() == 2);
        Path second = srs.stream().filter(p -> !uid(p).equals(firstSr)).findFirst().orElseThrow();
        SequenceAttribute predecessors = (SequenceAttribute) read(second).get(TagFromName.PredecessorDocumentsSequence);
        assertThat(predecessors).isNotNull();
        assertThat(predecessors.toString()).contains(firstSr);
        Eventually.await(WAIT, "every delivery done", () -> node.ledger().inState(DeliveryState.DELIVERED),
                l -> l.size() == 4);
        List<DiagnosticReport> after = fhir.reports();
        assertThat(after).as("one report per study: replaced, not duplicated").hasSize(1);
        assertThat(after.get(0).getIdElement().getIdPart()).isEqualTo(reports.get(0).getIdElement().getIdPart());
        assertThat(after.get(0).getMeta().getVersionId()).isEqualTo("2");
        assertThat(after.get(0).getIdentifierFirstRep().getValue())
                .isEqualTo(reports.get(0).getIdentifierFirstRep().getValue());
        assertThat(after.get(0).getStatus()).isEqualTo(DiagnosticReport.DiagnosticReportStatus.PRELIMINARY);
    }

    @Test
    void threeReconstructionsGiveOneSrAndOneReportForTheChosenSeriesAndStudiesShowSaysWhy() throws Exception {
        CtSeriesWriter.WrittenSeries thinSoft = write(2.5, 1, "thin soft tissue", "STANDARD");
        CtSeriesWriter.WrittenSeries thinLung = write(2.5, 2, "thin lung", "LUNG");
        CtSeriesWriter.WrittenSeries thick = write(5.0, 3, "thick", "STANDARD");
        String study = thinSoft.studyInstanceUid();
        assertThat(List.of(thinLung.studyInstanceUid(), thick.studyInstanceUid())).containsOnly(study);
        List<Path> all = new ArrayList<>(thick.files());
        all.addAll(thinLung.files());
        all.addAll(thinSoft.files());
        assertThat(storescu(all).exitCode()).isZero();

        Eventually.await(WAIT, "the FHIR delivery done", () -> delivery("fhir"),
                d -> d != null && d.state() == DeliveryState.DELIVERED);
        Eventually.await(WAIT, "the SR delivery done", () -> delivery("pacs"),
                d -> d != null && d.state() == DeliveryState.DELIVERED);
        assertThat(srFiles()).as("one SR for the study").hasSize(1);
        SequenceAttribute evidence = (SequenceAttribute) read(srFiles().get(0))
                .get(TagFromName.CurrentRequestedProcedureEvidenceSequence);
        assertThat(evidence.toString()).contains(thinSoft.seriesInstanceUid())
                .doesNotContain(thinLung.seriesInstanceUid()).doesNotContain(thick.seriesInstanceUid());
        // The SR itself says which series it comes from and why the others were not used.
        String srText = new String(Files.readAllBytes(srFiles().get(0)), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(srText).contains("Series used: " + thinSoft.seriesInstanceUid())
                .contains("Series not used: " + thinLung.seriesInstanceUid() + " (" + ErrorCode.NOT_PREFERRED.code())
                .contains("Series not used: " + thick.seriesInstanceUid() + " (" + ErrorCode.NOT_PREFERRED.code());
        List<DiagnosticReport> reports = fhir.reports();
        assertThat(reports).as("one DiagnosticReport for the study").hasSize(1);
        assertThat(FhirExporter.context().newJsonParser().encodeResourceToString(reports.get(0)))
                .contains("urn:oid:" + study);
        assertThat(node.ledger().inState(DeliveryState.DELIVERED)).hasSize(2);

        Path config = dir.resolve("node.properties");
        Files.writeString(config, "node.data-dir=" + dir.resolve("node") + "\n");
        CommandLine cli = CtTriageCommand.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        assertThat(cli.execute("studies", "show", study, "--config", config.toString())).as(err.toString()).isZero();
        assertThat(out.toString())
                .containsPattern(thinSoft.seriesInstanceUid() + "\t\\d+ instances\tTRIAGED\tselected: ")
                .containsPattern(thinLung.seriesInstanceUid() + "\t\\d+ instances\tNOT_TRIAGED\t"
                        + ErrorCode.NOT_PREFERRED.code() + " ")
                .containsPattern(thick.seriesInstanceUid() + "\t\\d+ instances\tNOT_TRIAGED\t"
                        + ErrorCode.NOT_PREFERRED.code() + " ")
                .containsPattern("result \\d+\tcurrent\tseries " + thinSoft.seriesInstanceUid())
                .containsPattern("delivery \\d+\tpacs\tDELIVERED\t1 attempt")
                .containsPattern("delivery \\d+\tfhir\tDELIVERED\t1 attempt");
    }

    private CtSeriesWriter.WrittenSeries write(double spacingMm, int number, String description, String kernel)
            throws Exception {
        int slices = (int) Math.round(150 / spacingMm);
        Phantom p = new PhantomGenerator().generate(new PhantomSpec(41, 64, 64, slices, 400.0 / 64, spacingMm,
                spacingMm, ContrastPhase.NONE, Set.of(), false));
        return new CtSeriesWriter().write(p, SeriesWriteOptions.defaults().withSeries(number, description, kernel),
                dir.resolve("series-" + number));
    }

    /** The study's delivery to {@code destination} of its current result, or null. */
    private DeliveryLedger.Delivery delivery(String destination) throws Exception {
        List<DeliveryLedger.Delivery> all = new ArrayList<>();
        for (DeliveryState s : DeliveryState.values()) {
            all.addAll(node.ledger().inState(s));
        }
        return all.stream().filter(d -> d.destination().equals(destination) && d.supersededBy() == null)
                .findFirst().orElse(null);
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

    private static String uid(Path p) {
        try {
            return read(p).get(TagFromName.SOPInstanceUID).getSingleStringValueOrEmptyString();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static AttributeList read(Path file) throws Exception {
        AttributeList list = new AttributeList();
        list.read(file.toString());
        return list;
    }
}
