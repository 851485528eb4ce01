package org.cttriage.testdata.orthanc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.orthanc.OrthancOptions.Routing;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness starts a real Orthanc that dcmtk can echo and store to, and the REST client reads it back. */
@RequiresTools({"Orthanc", "echoscu", "storescu"})
class OrthancServerTest {
    private static final Duration PEER_TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path seriesDir;
    static CtSeriesWriter.WrittenSeries ct;

    @TempDir
    Path dir;

    @BeforeAll
    static void writeSeries() throws IOException {
        ct = TestSeries.ct(41, seriesDir);
    }

    @Test
    void echoAndStoreWithDcmtkThenReadBackThroughRest() throws Exception {
        OrthancClient client;
        try (OrthancServer orthanc = OrthancServer.start(dir, OrthancOptions.defaults().withRouting(Routing.NONE))) {
            client = orthanc.client();
            ExternalCommand.Result echo = ExternalCommand.run(PEER_TIMEOUT, "echoscu", "--aetitle", "ECHOSCU",
                    "--call", orthanc.aet(), orthanc.host(), Integer.toString(orthanc.dicomPort()));
            assertThat(echo.exitCode()).as("echoscu:%n%s%nOrthanc:%n%s", echo.output(), orthanc.logTail()).isZero();

            ExternalCommand.Result store = ExternalCommand.run(PEER_TIMEOUT,
                    TestSeries.storescu(orthanc, "STORESCU", ct.files()));
            assertThat(store.exitCode()).as("storescu:%n%s%nOrthanc:%n%s", store.output(), orthanc.logTail()).isZero();

            String studyId = client.findStudy(ct.studyInstanceUid()).orElseThrow();
            assertThat(client.studies()).containsExactly(studyId);
            List<OrthancClient.Series> series = client.seriesOfStudy(studyId);
            assertThat(series).singleElement().satisfies(s -> {
                assertThat(s.modality()).isEqualTo("CT");
                assertThat(s.seriesInstanceUid()).isEqualTo(ct.seriesInstanceUid());
                assertThat(s.instanceCount()).isEqualTo(TestSeries.SLICES);
            });
            assertThat(client.series(series.get(0).id()).instances()).hasSameElementsAs(series.get(0).instances());

            JsonNode tags = client.simplifiedTags(series.get(0).instances().get(0));
            assertThat(tags.path("Modality").asText()).isEqualTo("CT");
            assertThat(tags.path("StudyInstanceUID").asText()).isEqualTo(ct.studyInstanceUid());
            assertThat(tags.path("Rows").asText()).isEqualTo("64");
            assertThat(client.instanceFile(series.get(0).instances().get(0))).startsWith(new byte[128])
                    .hasSizeGreaterThan(64 * 64 * 2);
            assertThat(client.findStudy("1.2.3.4.5.6.7.8.9")).isEmpty();
        }
        assertThatThrownBy(client::system).as("Orthanc stopped on close").isInstanceOf(IOException.class);
    }

    @Test
    void uploadsThroughTheRestApi() throws Exception {
        try (OrthancServer orthanc = OrthancServer.start(dir, OrthancOptions.defaults().withRouting(Routing.NONE))) {
            OrthancClient client = orthanc.client();
            OrthancClient.StoredInstance first = client.upload(ct.files().get(0));
            assertThat(first.status()).isEqualTo("Success");
            assertThat(client.upload(ct.files().get(0)).status()).isEqualTo("AlreadyStored");
            assertThat(client.findStudy(ct.studyInstanceUid())).contains(first.parentStudy());
            assertThat(client.series(first.parentSeries()).instances()).containsExactly(first.id());
        }
    }

    @Test
    void acceptsAssociationsOnlyFromKnownCallersForItsOwnAeTitle() throws Exception {
        try (OrthancServer orthanc = OrthancServer.start(dir, OrthancOptions.defaults().withRouting(Routing.NONE))) {
            List<Path> one = List.of(ct.files().get(0));
            ExternalCommand.Result unknownCaller = ExternalCommand.run(PEER_TIMEOUT,
                    TestSeries.storescu(orthanc, "CTTRIAGE", one));
            assertThat(unknownCaller.exitCode()).as(unknownCaller.output()).isNotZero();
            assertThat(unknownCaller.output()).contains("Calling AE Title Not Recognized");

            List<String> wrongCalled = TestSeries.storescu(orthanc, "STORESCU", one);
            wrongCalled.set(wrongCalled.indexOf(orthanc.aet()), "NOT_ORTHANC");
            ExternalCommand.Result wrongCalledResult = ExternalCommand.run(PEER_TIMEOUT, wrongCalled);
            assertThat(wrongCalledResult.exitCode()).as(wrongCalledResult.output()).isNotZero();
            assertThat(orthanc.client().studies()).isEmpty();

            // The routing peer (the node) may store its SR back once it is registered.
            orthanc.routeTo(new DicomPeer("CTTRIAGE", 11112));
            ExternalCommand.Result peer = ExternalCommand.run(PEER_TIMEOUT, TestSeries.storescu(orthanc, "CTTRIAGE", one));
            assertThat(peer.exitCode()).as("%s%n%s", peer.output(), orthanc.logTail()).isZero();
        }
    }

    @Test
    void routingPeerGivenAtStartMayStoreBack() throws Exception {
        OrthancOptions options = OrthancOptions.defaults().withRouting(Routing.NONE)
                .withRoutingPeer(new DicomPeer("CTTRIAGE", 11112)).withCallingAets(java.util.Set.of());
        try (OrthancServer orthanc = OrthancServer.start(dir, options)) {
            ExternalCommand.Result peer = ExternalCommand.run(PEER_TIMEOUT,
                    TestSeries.storescu(orthanc, "CTTRIAGE", List.of(ct.files().get(0))));
            assertThat(peer.exitCode()).as("%s%n%s", peer.output(), orthanc.logTail()).isZero();
            ExternalCommand.Result storescu = ExternalCommand.run(PEER_TIMEOUT,
                    TestSeries.storescu(orthanc, "STORESCU", List.of(ct.files().get(1))));
            assertThat(storescu.exitCode()).as("STORESCU is not listed any more").isNotZero();
        }
    }

    @Test
    void aFailedStartSaysSoWithTheLogTail() throws Exception {
        // /bin/false stands in for an Orthanc that exits at start-up (bad configuration, say).
        assertThatThrownBy(() -> OrthancServer.start(dir, OrthancOptions.defaults(), Path.of("/bin/false")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("exited with status 1 during start-up")
                .hasMessageContaining("log tail");
        assertThat(dir.resolve("orthanc.json")).content().contains("\"DicomAet\" : \"ORTHANC\"");
    }
}
