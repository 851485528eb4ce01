package org.cttriage.testdata.orthanc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped Lua script, run by a real Orthanc, sends a stable CT series to the "cttriage"
 * modality (here dcmtk's storescp standing in for the node) and never sends an SR.
 */
@RequiresTools({"Orthanc", "storescp", "storescu", "echoscu"})
class OrthancRoutingTest {
    private static final Duration PEER_TIMEOUT = Duration.ofSeconds(60);
    /** A deadline for failure messages only; routing normally takes StableAge plus a second or two. */
    private static final Duration ROUTING_DEADLINE = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @Test
    void stableCtSeriesIsSentToTheNodeAndAnSrIsNot() throws Exception {
        CtSeriesWriter.WrittenSeries ct = TestSeries.ct(43, dir.resolve("ct"));
        Path srFile = dir.resolve("sr.dcm");
        String srSeriesUid = TestSeries.srInStudyOf(ct, 43, srFile);

        try (StoreScp node = StoreScp.start("CTTRIAGE", dir.resolve("storescp"));
             OrthancServer orthanc = OrthancServer.start(dir.resolve("orthanc"))) {
            // The order an end-to-end test uses: Orthanc first, then the node, then the route.
            orthanc.routeTo(new DicomPeer(node.aet(), node.port()));
            OrthancClient client = orthanc.client();

            // The SR goes in first, so Orthanc declares it stable, and runs the script on it, before the CT.
            store(orthanc, List.of(srFile));
            store(orthanc, ct.files());
            String studyId = client.findStudy(ct.studyInstanceUid()).orElseThrow();
            List<OrthancClient.Series> series = client.seriesOfStudy(studyId);
            String ctSeriesId = idOf(series, "CT");
            String srSeriesId = idOf(series, "SR");
            assertThat(client.series(srSeriesId).seriesInstanceUid()).isEqualTo(srSeriesUid);

            OrthancClient.Job routed = Eventually.await(ROUTING_DEADLINE,
                    () -> "Orthanc's store job for the CT series to finish; Orthanc log:\n" + orthanc.logTail(),
                    () -> client.jobs().stream().filter(j -> j.parentResources().contains(ctSeriesId)).findFirst(),
                    j -> j.isPresent() && !List.of("Pending", "Running").contains(j.get().state())).orElseThrow();
            assertThat(routed.state()).as("%s%nOrthanc log:%n%s%nstorescp log:%n%s", routed, orthanc.logTail(),
                    node.log()).isEqualTo("Success");
            assertThat(routed.type()).isEqualTo("DicomModalityStore");
            assertThat(routed.remoteAet()).isEqualTo(node.aet());

            // storescp answers each C-STORE after writing the file, so a successful job means every file is there.
            List<String> received = node.receivedFiles().stream().map(p -> p.getFileName().toString()).toList();
            assertThat(received).hasSize(TestSeries.SLICES).allMatch(n -> n.startsWith("CT."));

            // The SR, stored first, became stable first, and Orthanc runs Lua events one at a time in
            // order: by the time the CT's job exists, the script has long decided about the SR.
            assertThat(client.series(srSeriesId).stable()).as("the SR series was declared stable").isTrue();
            assertThat(client.jobs()).as("no job ever sent the SR series")
                    .noneMatch(j -> j.parentResources().contains(srSeriesId));
        }
    }

    private static void store(OrthancServer orthanc, List<Path> files) throws Exception {
        ExternalCommand.Result r = ExternalCommand.run(PEER_TIMEOUT, TestSeries.storescu(orthanc, "STORESCU", files));
        assertThat(r.exitCode()).as("storescu:%n%s%nOrthanc:%n%s", r.output(), orthanc.logTail()).isZero();
    }

    private static String idOf(List<OrthancClient.Series> series, String modality) {
        return series.stream().filter(s -> s.modality().equals(modality)).findFirst().orElseThrow().id();
    }
}
