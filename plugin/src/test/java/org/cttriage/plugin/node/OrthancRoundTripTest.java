package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.pixelmed.dicom.SOPClass;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.inference.EngineOptions;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.inference.ModelPackage;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.NodeRecovery;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.PhantomFinding;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.orthanc.DicomPeer;
import org.cttriage.testdata.orthanc.OrthancClient;
import org.cttriage.testdata.orthanc.OrthancOptions;
import org.cttriage.testdata.orthanc.OrthancServer;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deployment in deploy/orthanc/, end to end: a real Orthanc running the shipped Lua script
 * routes a stable CT series to the node, and the node's DICOM SR, organ SEG and key-image KOS come
 * back into the same study in Orthanc, once, each as a series of that study. Sending the same CT
 * again produces no second SR, SEG or KOS.
 */
@RequiresTools({"Orthanc", "storescu"})
class OrthancRoundTripTest {
    /** Deadlines for failure messages only; the round trip normally takes StableAge plus a few seconds. */
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final Duration STORESCU_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STABLE_AGE = Duration.ofSeconds(2);
    private static final String NODE_AET = "CTTRIAGE";
    /** A calling AE title the harness lets store into Orthanc (OrthancOptions.defaults()). */
    private static final String MODALITY_AET = "STORESCU";
    /** 128² × 96 slices of 3.75 mm with an effusion and an enlarged liver, which the reference model calls present. */
    private static final int SLICES = 96;
    private static final Path PACKAGE = Path.of(System.getProperty("ctglip.package", "../models/ctglip-ref"));
    private static final Set<String> UNFINISHED_JOB_STATES = Set.of("Pending", "Running", "Retry");

    @TempDir
    Path dir;

    private OrthancServer orthanc;
    private InferenceEngine engine;
    private ExecutorService pool;
    private JdbcConnectionPool dataSource;
    private TriageNode node;

    @AfterEach
    void stop() throws Exception {
        if (node != null) {
            node.close();
        }
        if (dataSource != null) {
            dataSource.dispose();
        }
        if (pool != null) {
            pool.shutdownNow();
        }
        if (engine != null) {
            engine.close();
        }
        if (orthanc != null) {
            orthanc.close();
        }
    }

    @Test
    void ctRoutedByOrthancComesBackAsOneSrInItsStudyAndAResendChangesNothing() throws Exception {
        CtSeriesWriter.WrittenSeries ct = series(dir.resolve("ct"));
        // Orthanc first: the node needs its DICOM port as the SR destination.
        orthanc = OrthancServer.start(dir.resolve("orthanc"), OrthancOptions.defaults().withStableAge(STABLE_AGE));
        OrthancClient client = orthanc.client();
        startNode();
        orthanc.routeTo(new DicomPeer(NODE_AET, node.port()));

        store(ct.files());
        String studyId = client.findStudy(ct.studyInstanceUid()).orElseThrow();
        String ctSeriesId = seriesOf(client, studyId, "CT").get(0).id();

        OrthancClient.Series sr = Eventually.await(WAIT,
                () -> "an SR series in the CT's study in Orthanc; Orthanc log:\n" + orthanc.logTail(),
                () -> seriesOf(client, studyId, "SR"), l -> !l.isEmpty()).get(0);
        Eventually.await(WAIT, "the node to record its delivery to Orthanc",
                () -> node.ledger().inState(DeliveryState.DELIVERED), l -> !l.isEmpty());
        assertThat(seriesOf(client, studyId, "SR")).as("SR series in the study").hasSize(1);
        assertThat(client.series(sr.id()).instanceCount()).as("SR instances").isEqualTo(1);
        JsonNode tags = client.simplifiedTags(client.series(sr.id()).instances().get(0));
        assertThat(tags.path("StudyInstanceUID").asText()).isEqualTo(ct.studyInstanceUid());
        assertThat(tags.path("Modality").asText()).isEqualTo("SR");
        assertThat(tags.path("SOPClassUID").asText()).isEqualTo(SOPClass.Comprehensive3DSRStorage);
        List<DeliveryLedger.Delivery> delivered = node.ledger().inState(DeliveryState.DELIVERED);
        assertThat(delivered).hasSize(1);
        // The SEG and the KOS went on the same delivery: delivered means Orthanc stored all three.
        assertThat(delivered.get(0).files()).hasSize(3);
        OrthancClient.Series seg = onlySeries(client, studyId, "SEG");
        JsonNode segTags = client.simplifiedTags(client.series(seg.id()).instances().get(0));
        assertThat(segTags.path("StudyInstanceUID").asText()).isEqualTo(ct.studyInstanceUid());
        assertThat(segTags.path("SOPClassUID").asText()).isEqualTo(SOPClass.SegmentationStorage);
        assertThat(segTags.path("FrameOfReferenceUID").asText()).isNotEmpty();
        OrthancClient.Series kos = onlySeries(client, studyId, "KO");
        JsonNode kosTags = client.simplifiedTags(client.series(kos.id()).instances().get(0));
        assertThat(kosTags.path("StudyInstanceUID").asText()).isEqualTo(ct.studyInstanceUid());
        assertThat(kosTags.path("SOPClassUID").asText()).isEqualTo(SOPClass.KeyObjectSelectionDocumentStorage);
        assertThat(delivered.get(0).destination()).isEqualTo("orthanc");
        assertThat(delivered.get(0).series().seriesInstanceUid()).isEqualTo(ct.seriesInstanceUid());
        // The script routes CT only: once the SR series is stable too, the CT has been sent exactly once.
        awaitStable(client, sr.id());
        awaitOrthancIdle(client, ctSeriesId);
        assertThat(routingsOf(client, ctSeriesId)).as("Orthanc's routings of the CT series").hasSize(1);

        // The same CT again, byte for byte. Orthanc 1.10 keeps the copies it has ("OverwriteInstances" false), so
        // the series stays stable and the script does not route it again; a PACS that overwrites would. So that
        // the node does get the same input twice, Orthanc is then asked to send the series as the script does.
        store(ct.files());
        awaitOrthancIdle(client, ctSeriesId);
        assertThat(client.storeToModality(OrthancServer.ROUTING_MODALITY, ctSeriesId)).isEqualTo(SLICES);
        awaitOrthancIdle(client, ctSeriesId);

        assertThat(routingsOf(client, ctSeriesId)).as("Orthanc's routings of the CT series").hasSizeGreaterThan(1)
                .allSatisfy(j -> {
                    assertThat(j.type()).isEqualTo("DicomModalityStore");
                    assertThat(j.remoteAet()).isEqualTo(NODE_AET);
                    assertThat(j.state()).as("%s%nOrthanc log:%n%s", j, orthanc.logTail()).isEqualTo("Success");
                });
        assertThat(client.jobs()).as("no job sent the SR, SEG or KOS series").noneMatch(j ->
                j.parentResources().contains(sr.id()) || j.parentResources().contains(seg.id())
                        || j.parentResources().contains(kos.id()));
        // Orthanc's store job succeeds only once the node has answered every C-STORE, and the node records an
        // instance before answering: had the resend changed the series' input, it would be receiving again.
        assertThat(new NodeRecovery(node.database()).seriesAwaitingTriage()).as("series awaiting triage").isEmpty();
        assertThat(node.ledger().inState(DeliveryState.PENDING)).as("pending deliveries").isEmpty();
        assertThat(node.ledger().inState(DeliveryState.DELIVERED)).as("delivered SRs").hasSize(1);
        assertThat(seriesOf(client, studyId, "SR")).as("SR series in the study").hasSize(1);
        assertThat(client.series(sr.id()).instanceCount()).as("SR instances").isEqualTo(1);
        assertThat(onlySeries(client, studyId, "SEG").instanceCount()).as("SEG instances").isEqualTo(1);
        assertThat(onlySeries(client, studyId, "KO").instanceCount()).as("KOS instances").isEqualTo(1);
    }

    /** The study's one series of {@code modality}, waited for: the node stored it with the SR, on one association. */
    private OrthancClient.Series onlySeries(OrthancClient client, String studyId, String modality) throws Exception {
        List<OrthancClient.Series> series = Eventually.await(WAIT, () -> "a " + modality
                + " series in the CT's study in Orthanc; Orthanc log:\n" + orthanc.logTail(),
                () -> seriesOf(client, studyId, modality), l -> !l.isEmpty());
        assertThat(series).as(modality + " series in the study").hasSize(1);
        return client.series(series.get(0).id());
    }

    private void startNode() throws Exception {
        engine = new InferenceEngine(ModelPackage.load(PACKAGE),
                EngineOptions.defaults().withDevice(EngineOptions.Device.CPU));
        pool = Executors.newFixedThreadPool(2);
        dataSource = JdbcConnectionPool.create("jdbc:h2:" + dir.resolve("node/db/node").toAbsolutePath(), "sa", "");
        RemoteAe pacs = new RemoteAe(orthanc.aet(), orthanc.host(), orthanc.dicomPort());
        node = TriageNode.start(TriageNode.Config.defaults(NODE_AET, 0, dir.resolve("node"),
                                List.of(Destination.dicom("orthanc", pacs)))
                        .withQuietPeriod(Duration.ofSeconds(1))
                        .withRedelivery(3, Duration.ofMillis(200), Duration.ofSeconds(1))
                        // Orthanc routes with its own AE title as the calling AE.
                        .withAllowedCallingAeTitles(Set.of(orthanc.aet())),
                dataSource, engine, SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool, Optional.empty(),
                Clock.systemUTC());
    }

    /**
     * Waits until Orthanc has nothing left to do for a series: it is stable (so its OnStableSeries
     * event has fired, if a store made it unstable again) and no job is unfinished.
     */
    private void awaitOrthancIdle(OrthancClient client, String seriesId) throws Exception {
        awaitStable(client, seriesId);
        Eventually.await(WAIT, () -> "Orthanc's jobs to finish; Orthanc log:\n" + orthanc.logTail(),
                client::jobs, l -> l.stream().noneMatch(j -> UNFINISHED_JOB_STATES.contains(j.state())));
    }

    private void awaitStable(OrthancClient client, String seriesId) throws Exception {
        Eventually.await(WAIT, () -> "series " + seriesId + " to be stable in Orthanc; Orthanc log:\n"
                + orthanc.logTail(), () -> client.series(seriesId).stable(), Boolean.TRUE::equals);
    }

    private static List<OrthancClient.Job> routingsOf(OrthancClient client, String seriesId) throws Exception {
        return client.jobs().stream().filter(j -> j.parentResources().contains(seriesId)).toList();
    }

    private void store(List<Path> files) throws Exception {
        List<String> command = new ArrayList<>(List.of("storescu", "--aetitle", MODALITY_AET, "--call", orthanc.aet(),
                orthanc.host(), Integer.toString(orthanc.dicomPort())));
        files.forEach(f -> command.add(f.toString()));
        ExternalCommand.Result r = ExternalCommand.run(STORESCU_TIMEOUT, command);
        assertThat(r.exitCode()).as("storescu:%n%s%nOrthanc log:%n%s", r.output(), orthanc.logTail()).isZero();
    }

    private static List<OrthancClient.Series> seriesOf(OrthancClient client, String studyId, String modality)
            throws Exception {
        return client.seriesOfStudy(studyId).stream().filter(s -> s.modality().equals(modality)).toList();
    }

    private static CtSeriesWriter.WrittenSeries series(Path out) throws Exception {
        PhantomSpec spec = new PhantomSpec(11, 128, 128, SLICES, 400.0 / 128, 3.75, 3.75, ContrastPhase.NONE,
                Set.of(PhantomFinding.PLEURAL_EFFUSION, PhantomFinding.SPLENOMEGALY, PhantomFinding.HEPATOMEGALY), false);
        return new CtSeriesWriter().write(new PhantomGenerator().generate(spec), SeriesWriteOptions.defaults(), out);
    }
}
