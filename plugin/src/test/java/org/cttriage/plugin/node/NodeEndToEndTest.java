package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.dicom.net.TlsClientOptions;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.PostgresServer;
import org.cttriage.testdata.junit.StoreScp;
import org.cttriage.testdata.junit.TlsKeys;
import org.cttriage.fhir.delivery.FhirDelivery;
import org.cttriage.fhir.delivery.FhirDeliveryOptions;
import org.cttriage.fhir.delivery.FhirExporter;
import org.cttriage.core.node.DeliveryScheduler;
import org.cttriage.fhir.mapping.FhirMappingOptions;
import org.h2.jdbcx.JdbcConnectionPool;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import java.net.URI;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * dcmtk storescu → the node (routes, H2 or PostgreSQL, reference model) → dcmtk storescp as the PACS: the SR
 * arrives and validates, a resend changes nothing, a late instance supersedes the SR, and an
 * unreachable PACS ends in the dead letters.
 */
@RequiresTools({"storescu", "storescp", "echoscu", "dciodvfy", "keytool", "openssl", PostgresServer.BIN + "/pg_ctl"})
class NodeEndToEndTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static InferenceEngine engine;
    private static ExecutorService pool;

    @TempDir
    Path dir;

    private StoreScp pacs;
    private TriageNode node;
    private JdbcConnectionPool dataSource;

    @BeforeAll
    static void openEngine() throws Exception {
        engine = SharedEngine.cpu();
        pool = SharedEngine.pool();
    }

    @BeforeEach
    void start() throws Exception {
        pacs = StoreScp.start("PACS", dir.resolve("pacs"));
        dataSource = JdbcConnectionPool.create("jdbc:h2:" + dir.resolve("node/db/node").toAbsolutePath(), "sa", "");
        node = startNode(List.of(Destination.dicom("pacs", new RemoteAe("PACS", "127.0.0.1", pacs.port()))));
    }

    private TriageNode startNode(List<Destination> destinations) throws Exception {
        return startNode(dataSource, destinations);
    }

    private TriageNode startNode(DataSource database, List<Destination> destinations) throws Exception {
        return TriageNode.start(TriageNode.Config.defaults("CTTRIAGE", 0, dir.resolve("node"), destinations)
                        .withQuietPeriod(Duration.ofSeconds(1))
                        .withRedelivery(3, Duration.ofMillis(200), Duration.ofSeconds(1)),
                database, engine, SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool, Optional.empty(),
                Clock.systemUTC());
    }

    @AfterEach
    void stop() throws Exception {
        node.close();
        dataSource.dispose();
        pacs.close();
    }

    @Test
    void seriesInSrOutValidOnceAndSupersededByLateInstance() throws Exception {
        srOnceThenSupersededByLateInstance();
    }

    /**
     * The same on PostgreSQL, DESIGN.md's production database (database.url), instead of the
     * embedded H2: the schema, Camel's aggregation repository and every statement run there.
     */
    @Test
    void theSameOnPostgresql() throws Exception {
        node.close();
        try (PostgresServer postgres = PostgresServer.start(dir); HikariDataSource pg = hikari(postgres)) {
            node = startNode(pg, List.of(Destination.dicom("pacs", new RemoteAe("PACS", "127.0.0.1", pacs.port()))));
            srOnceThenSupersededByLateInstance();
            node.close();
            try (Connection c = pg.getConnection(); Statement s = c.createStatement();
                 ResultSet r = s.executeQuery("SELECT COUNT(*), COUNT(superseded_by) FROM node_result")) {
                r.next();
                assertThat(r.getInt(1)).as("results").isEqualTo(2);
                assertThat(r.getInt(2)).as("superseded").isEqualTo(1);
            }
        }
    }

    private static HikariDataSource hikari(PostgresServer postgres) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(postgres.jdbcUrl());
        config.setUsername(PostgresServer.USER);
        config.setMaximumPoolSize(8);
        return new HikariDataSource(config);
    }

    private void srOnceThenSupersededByLateInstance() throws Exception {
        List<Path> files = series(dir.resolve("ct"), 40);
        List<Path> first = files.subList(0, 39);
        assertThat(storescu(first).exitCode()).isZero();

        List<Path> srs = Eventually.await(WAIT, "an SR at the PACS", () -> srFiles(), l -> l.size() == 1);
        AttributeList sr = read(srs.get(0));
        assertThat(sr.get(TagFromName.Modality).getSingleStringValueOrEmptyString()).isEqualTo("SR");
        assertThat(sr.get(TagFromName.StudyInstanceUID).getSingleStringValueOrEmptyString())
                .isEqualTo(read(files.get(0)).get(TagFromName.StudyInstanceUID).getSingleStringValueOrEmptyString());
        ExternalCommand.Result valid = ExternalCommand.run(Duration.ofSeconds(60), "dciodvfy", srs.get(0).toString());
        assertThat(valid.output()).doesNotContain("Error");
        Eventually.await(WAIT, "delivery recorded", () -> node.ledger().inState(DeliveryState.DELIVERED),
                l -> l.size() == 1);

        // The same instances again: identical input, no second SR.
        assertThat(storescu(first).exitCode()).isZero();
        // A late instance: the series is triaged again and a new SR supersedes the first.
        assertThat(storescu(files.subList(39, 40)).exitCode()).isZero();
        List<Path> after = Eventually.await(WAIT, "a second SR", () -> srFiles(), l -> l.size() == 2);
        // The PACS has the file a moment before the node records the acknowledgement.
        Eventually.await(WAIT, "both deliveries recorded", () -> node.ledger().inState(DeliveryState.DELIVERED),
                l -> l.size() == 2);
        assertThat(after.stream().map(p -> uid(p)).distinct()).hasSize(2);
        // The second SR names the first as its predecessor (PS3.3 C.17.2), and validates.
        String firstUid = uid(srs.get(0));
        Path second = after.stream().filter(p -> !uid(p).equals(firstUid)).findFirst().orElseThrow();
        com.pixelmed.dicom.SequenceAttribute predecessors = (com.pixelmed.dicom.SequenceAttribute) read(second)
                .get(TagFromName.PredecessorDocumentsSequence);
        assertThat(predecessors).isNotNull();
        assertThat(predecessors.toString()).contains(firstUid);
        ExternalCommand.Result secondValid = ExternalCommand.run(Duration.ofSeconds(60), "dciodvfy", second.toString());
        assertThat(secondValid.output()).doesNotContain("Error");

        // The first result's SR, SEG and KOS are withdrawn by one IHE IOCM rejection note, sent with the new ones.
        List<Path> notes = new java.util.ArrayList<>();
        java.util.Set<String> atPacs = new java.util.HashSet<>();
        for (Path p : pacs.receivedFiles()) {
            AttributeList object = read(p);
            atPacs.add(object.get(TagFromName.SOPInstanceUID).getSingleStringValueOrEmptyString());
            com.pixelmed.dicom.CodedSequenceItem title = com.pixelmed.dicom.CodedSequenceItem.getSingleCodedSequenceItemOrNull(
                    object, TagFromName.ConceptNameCodeSequence);
            if ("KO".equals(Attribute.getSingleStringValueOrEmptyString(object, TagFromName.Modality)) && title != null
                    && "113001".equals(title.getCodeValue())) {
                notes.add(p);
            }
        }
        assertThat(notes).as("rejection notes at the PACS").hasSize(1);
        ExternalCommand.Result noteValid = ExternalCommand.run(Duration.ofSeconds(60), "dciodvfy", notes.get(0).toString());
        assertThat(noteValid.output()).doesNotContain("Error");
        java.util.Set<String> current = evidence(read(second));
        current.add(uid(second));
        java.util.Set<String> expected = new java.util.HashSet<>(atPacs);
        expected.removeAll(current);
        expected.remove(uid(notes.get(0)));
        assertThat(evidence(read(notes.get(0)))).as("withdrawn").contains(firstUid).isEqualTo(expected)
                .doesNotContainAnyElementsOf(current);
    }

    /** The SOP Instance UIDs listed in an SR's or KOS's Current Requested Procedure Evidence Sequence. */
    private static java.util.Set<String> evidence(AttributeList object) {
        java.util.Set<String> uids = new java.util.HashSet<>();
        com.pixelmed.dicom.SequenceAttribute studies = (com.pixelmed.dicom.SequenceAttribute) object.get(
                TagFromName.CurrentRequestedProcedureEvidenceSequence);
        for (int i = 0; i < studies.getNumberOfItems(); i++) {
            com.pixelmed.dicom.SequenceAttribute series = (com.pixelmed.dicom.SequenceAttribute) studies.getItem(i)
                    .getAttributeList().get(TagFromName.ReferencedSeriesSequence);
            for (int j = 0; j < series.getNumberOfItems(); j++) {
                com.pixelmed.dicom.SequenceAttribute sops = (com.pixelmed.dicom.SequenceAttribute) series.getItem(j)
                        .getAttributeList().get(TagFromName.ReferencedSOPSequence);
                for (int k = 0; k < sops.getNumberOfItems(); k++) {
                    uids.add(Attribute.getSingleStringValueOrEmptyString(sops.getItem(k).getAttributeList(),
                            TagFromName.ReferencedSOPInstanceUID));
                }
            }
        }
        return uids;
    }

    /**
     * The SR over DICOM TLS to dcmtk's storescp {@code +tls} (BCP 195, client certificate
     * required): the destination's TLS options reach the {@code dicom:} producer through the route.
     */
    @Test
    void theSrIsDeliveredOverTlsCheckingThePacsHostName() throws Exception {
        node.close();
        pacs.close();
        TlsKeys keys = TlsKeys.create(Files.createDirectories(dir.resolve("keys")));
        pacs = StoreScp.startTls("PACS", dir.resolve("tls-pacs"), keys.serverKey(), keys.serverCertificate(),
                keys.clientKey(), keys.clientCertificate());
        char[] secret = TlsKeys.PASSWORD.toCharArray();
        node = startNode(List.of(Destination.dicom("pacs", new RemoteAe("PACS", "127.0.0.1", pacs.port()),
                Optional.of(new TlsClientOptions(Optional.of(keys.clientKeyStore()), secret, keys.serverTrustStore(),
                        secret, new TlsClientOptions.HostName())))));
        assertThat(storescu(series(dir.resolve("ct"), 40)).exitCode()).isZero();
        List<Path> srs = Eventually.await(WAIT, () -> "an SR at the TLS PACS; its log:\n" + log(pacs), () -> srFiles(),
                l -> l.size() == 1);
        assertThat(read(srs.get(0)).get(TagFromName.Modality).getSingleStringValueOrEmptyString()).isEqualTo("SR");
        Eventually.await(WAIT, "delivery recorded", () -> node.ledger().inState(DeliveryState.DELIVERED),
                l -> l.size() == 1);
    }

    private static String log(StoreScp scp) {
        try {
            return scp.log();
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    /** A FHIR server's transaction-response: one "201 Created" entry per request entry (WireMock templating). */
    private static final String TRANSACTION_RESPONSE = "{\"resourceType\":\"Bundle\",\"type\":\"transaction-response\","
            + "\"entry\":[{{#each (jsonPath request.body '$.entry') as |e|}}{{#unless @first}},{{/unless}}"
            + "{\"response\":{\"status\":\"201 Created\"}}{{/each}}]}";

    @Test
    void resultIsDeliveredToTheFhirServerBesideTheSr() throws Exception {
        WireMockServer fhirServer = new WireMockServer(WireMockConfiguration.wireMockConfig().bindAddress("127.0.0.1")
                .dynamicPort().templatingEnabled(true));
        fhirServer.start();
        try {
            fhirServer.stubFor(WireMock.post("/fhir").willReturn(WireMock.aResponse().withStatus(200)
                    .withHeader("Content-Type", "application/fhir+json").withBody(TRANSACTION_RESPONSE)
                    .withTransformers("response-template")));
            FhirDeliveryOptions options = FhirDeliveryOptions.builder(
                    URI.create("http://127.0.0.1:" + fhirServer.port() + "/fhir"))
                    .deadLetterDir(dir.resolve("fhir-dead")).build();
            FhirExporter exporter = new FhirExporter(new FhirDelivery(options, FhirExporter.context(),
                    Clock.systemUTC()), FhirMappingOptions.defaults(), Clock.systemUTC());
            DeliveryScheduler.Lane fhir = new DeliveryScheduler.Lane(Destination.FHIR, exporter, exporter.retryPolicy());
            node.close();
            node = TriageNode.start(TriageNode.Config.defaults("CTTRIAGE", 0, dir.resolve("node"), List.of(
                            Destination.dicom("pacs", new RemoteAe("PACS", "127.0.0.1", pacs.port())), Destination.fhir()))
                            .withQuietPeriod(Duration.ofSeconds(1)),
                    dataSource, engine, SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool, Optional.of(fhir),
                    Clock.systemUTC());
            assertThat(storescu(series(dir.resolve("ct"), 30)).exitCode()).isZero();
            Eventually.await(WAIT, "SR and FHIR delivered", () -> node.ledger().inState(DeliveryState.DELIVERED),
                    l -> l.size() == 2);
            List<LoggedRequest> posts = fhirServer.findAll(WireMock.postRequestedFor(WireMock.urlEqualTo("/fhir")));
            assertThat(posts).hasSize(1);
            String body = posts.get(0).getBodyAsString();
            assertThat(body).contains("\"type\":\"transaction\"").contains("\"DiagnosticReport\"")
                    .contains("18748-4").contains("DiagnosticReport?identifier=");
            assertThat(srFiles()).hasSize(1);
            assertThat(node.ledger().inState(DeliveryState.DEAD)).isEmpty();
        } finally {
            fhirServer.stop();
        }
    }

    @Test
    void unreachablePacsEndsInTheDeadLettersAndRetryDelivers() throws Exception {
        node.close();
        int port = pacs.port();
        pacs.close();
        node = startNode(List.of(Destination.dicom("pacs", new RemoteAe("PACS", "127.0.0.1", port))));
        assertThat(storescu(series(dir.resolve("ct"), 30)).exitCode()).isZero();
        Eventually.await(WAIT, "a dead letter", () -> node.ledger().inState(DeliveryState.DEAD), l -> l.size() == 1);
        assertThat(node.ledger().inState(DeliveryState.DEAD).get(0).attempts()).isEqualTo(3);
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

    private static List<Path> series(Path out, int slices) throws Exception {
        return PhantomSeries.write(11, 64, slices, 10, out).files();
    }

    private static AttributeList read(Path file) throws Exception {
        AttributeList list = new AttributeList();
        list.read(file.toString());
        return list;
    }
}
