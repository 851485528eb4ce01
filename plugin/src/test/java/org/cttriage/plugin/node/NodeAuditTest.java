package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;
import org.cttriage.plugin.web.Users;
import org.cttriage.testdata.audit.AuditSchema;
import org.cttriage.testdata.audit.SyslogMessage;
import org.cttriage.testdata.audit.SyslogServer;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.LoopbackPorts;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/**
 * The audit trail of a real node process ({@code serve --config}) against a syslog collector in the test: dcmtk's
 * storescu sends a study, the node triages it and delivers its SR to dcmtk's storescp, a stranger is turned away,
 * the node stops. The collector (and {@code audit.file}) then hold, each valid against PS3.15 A.5.1: Application
 * Start, the association accepted, the instances received with the study and its patient as participant objects,
 * the SR transferred to the PACS, the rejected association, a worklist reader's failed and successful login, the
 * study viewed and reviewed, the logout, and Application Stop.
 */
@RequiresTools({"storescu", "storescp", "echoscu"})
class NodeAuditTest {
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final String NAME = "Auditorius^Wilhelmina";
    private static final String CT = "1.2.840.10008.5.1.4.1.1.2";
    private static final String SR = "1.2.840.10008.5.1.4.1.1.88.34";
    private static final String PASSWORD = "a long reader password";

    @TempDir
    Path dir;

    private NodeProcess node;
    private StoreScp pacs;
    private SyslogServer collector;

    @AfterEach
    void stop() throws Exception {
        if (node != null) {
            node.close();
        }
        if (pacs != null) {
            pacs.close();
        }
        if (collector != null) {
            collector.close();
        }
    }

    @Test
    void aStudyInAndItsSrOutAreInTheAuditTrail() throws Exception {
        int nodePort = LoopbackPorts.free();
        pacs = StoreScp.start("PACS", dir.resolve("pacs"), LoopbackPorts.free(), true);
        collector = SyslogServer.tcp(SyslogServer.Mode.READING);
        Path config = dir.resolve("node.properties");
        Path log = dir.resolve("node.log");
        Path auditFile = dir.resolve("audit").resolve("audit.log");
        Files.write(config, List.of("node.data-dir=" + dir.resolve("var"), "dicom.port=" + nodePort, "http.port=0",
                "assembly.quiet-period=2s", "dicom.min-free-disk-mb=1",
                "dicom.allowed-calling-aets=MODALITY,ECHOSCU",
                "delivery.dicom-destinations=PACS@127.0.0.1:" + pacs.port(),
                "audit.syslog.host=127.0.0.1", "audit.syslog.port=" + collector.port(), "audit.syslog.protocol=TCP",
                "audit.file=" + auditFile, "audit.enterprise-site-id=TESTSITE"));
        CtSeriesWriter.WrittenSeries study = new CtSeriesWriter().write(new PhantomGenerator().generate(
                new PhantomSpec(314159, 64, 64, 20, 400.0 / 64, 10, 10, ContrastPhase.NONE, Set.of(), false)),
                SeriesWriteOptions.defaults().withPatientName(NAME), dir.resolve("study"));

        // A worklist reader, made before the node starts (ct-triage users add does the same).
        org.h2.jdbcx.JdbcConnectionPool pool = NodeDatabaseFiles.open(dir.resolve("var"));
        try {
            org.cttriage.core.node.NodeDatabase database = new org.cttriage.core.node.NodeDatabase(pool);
            database.migrate();
            new Users(database, java.time.Clock.systemUTC()).add("reader1", PASSWORD.toCharArray(), Users.Role.READER);
        } finally {
            pool.dispose();
        }

        node = NodeProcess.start(config, log, nodePort, WAIT);
        List<String> send = new ArrayList<>(List.of("storescu", "-aet", "MODALITY", "-aec", "CTTRIAGE", "127.0.0.1",
                Integer.toString(nodePort)));
        study.files().forEach(f -> send.add(f.toString()));
        ExternalCommand.Result sent = ExternalCommand.run(WAIT, send);
        assertThat(sent.exitCode()).as(sent.output()).isZero();
        Eventually.awaitTrue(WAIT, "the SR at the PACS", () -> pacs.receivedFiles().stream()
                .anyMatch(p -> p.getFileName().toString().startsWith("SR")));
        ExternalCommand.Result rejected = ExternalCommand.run(WAIT, "echoscu", "-aet", "INTRUDER", "-aec", "CTTRIAGE",
                "127.0.0.1", Integer.toString(nodePort));
        assertThat(rejected.exitCode()).isNotZero();
        Eventually.await(WAIT, () -> "the SR transfer audited; log:\n" + node.tail(), () -> messages(collector),
                m -> m.stream().anyMatch(isEvent("110104").and(x -> xpath(x,
                        "//SOPClass/@UID").equals(SR))) && m.stream().anyMatch(x -> xpath(x,
                        "//EventOutcomeDescription").contains("INTRUDER")));
        worklistSession(log, study.studyInstanceUid());
        Eventually.await(WAIT, "the worklist logout audited", () -> messages(collector),
                m -> m.stream().anyMatch(x -> xpath(x, "//EventTypeCode/@csd-code").equals("110123")));
        node.stop();
        Eventually.await(WAIT, "Application Stop at the collector", () -> messages(collector),
                m -> m.stream().anyMatch(isEvent("110100").and(x -> xpath(x, "//EventTypeCode/@csd-code")
                        .equals("110121"))));

        assertThat(collector.errors()).isEmpty();
        for (SyslogMessage m : collector.messages()) {
            AuditSchema.assertValid(m.msg());
            assertThat(m.msgId()).isEqualTo("DICOM+RFC3881");
        }
        List<Document> all = messages(collector);
        assertThat(all).allSatisfy(x -> assertThat(xpath(x, "//AuditSourceIdentification/@AuditEnterpriseSiteID"))
                .isEqualTo("TESTSITE"));

        Document start = all.get(0);
        assertThat(xpath(start, "//EventID/@csd-code")).isEqualTo("110100");
        assertThat(xpath(start, "//EventTypeCode/@csd-code")).isEqualTo("110120");

        assertThat(all).anySatisfy(x -> {
            assertThat(xpath(x, "//EventID/@csd-code")).isEqualTo("110113");
            assertThat(xpath(x, "//EventIdentification/@EventOutcomeIndicator")).isEqualTo("0");
            assertThat(xpath(x, "//EventOutcomeDescription")).contains("MODALITY").contains("accepted");
        });

        Document received = all.stream().filter(isEvent("110104").and(x -> xpath(x,
                "//ActiveParticipant[RoleIDCode/@csd-code='110153']/@UserID").equals("MODALITY"))).findFirst()
                .orElseThrow();
        assertThat(xpath(received, "//EventIdentification/@EventOutcomeIndicator")).isEqualTo("0");
        assertThat(xpath(received, "//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='3']"
                + "/@ParticipantObjectID")).isEqualTo(study.studyInstanceUid());
        assertThat(xpath(received, "//SOPClass[@UID='" + CT + "']/@NumberOfInstances"))
                .isEqualTo(Integer.toString(study.files().size()));
        assertThat(xpath(received, "//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='1']"
                + "/@ParticipantObjectID")).isEqualTo("PHANTOM-314159^^^CTTRIAGE-PHANTOM");
        assertThat(xpath(received, "//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='1']"
                + "/ParticipantObjectName")).isEqualTo(NAME);

        Document srSent = all.stream().filter(isEvent("110104").and(x -> xpath(x, "//SOPClass/@UID").equals(SR)))
                .findFirst().orElseThrow();
        assertThat(xpath(srSent, "//ActiveParticipant[RoleIDCode/@csd-code='110152']/@UserID")).isEqualTo("PACS");
        assertThat(xpath(srSent, "//ActiveParticipant[RoleIDCode/@csd-code='110153']/@UserIsRequestor"))
                .isEqualTo("true");
        assertThat(xpath(srSent, "//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='3']"
                + "/@ParticipantObjectID")).isEqualTo(study.studyInstanceUid());
        // The patient's name is known to the run that triaged the study.
        assertThat(xpath(srSent, "//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='1']"
                + "/ParticipantObjectName")).isEqualTo(NAME);

        assertThat(all).anySatisfy(x -> {
            assertThat(xpath(x, "//EventID/@csd-code")).isEqualTo("110113");
            assertThat(xpath(x, "//EventIdentification/@EventOutcomeIndicator")).isEqualTo("4");
            assertThat(xpath(x, "//EventOutcomeDescription")).contains("INTRUDER").contains("allow-list");
        });
        assertThat(xpath(all.get(all.size() - 1), "//EventTypeCode/@csd-code")).isEqualTo("110121");

        // The worklist: a wrong password, a login, the study viewed and reviewed, a logout.
        assertThat(all).anySatisfy(x -> {
            assertThat(xpath(x, "//EventID/@csd-code")).isEqualTo("110114");
            assertThat(xpath(x, "//EventTypeCode/@csd-code")).isEqualTo("110122");
            assertThat(xpath(x, "//EventIdentification/@EventOutcomeIndicator")).isEqualTo("4");
            assertThat(xpath(x, "//ActiveParticipant[@UserIsRequestor='true']/@UserID")).isEqualTo("reader1");
            assertThat(xpath(x, "//ActiveParticipant[@UserIsRequestor='true']/@NetworkAccessPointID"))
                    .isEqualTo("127.0.0.1");
        });
        assertThat(all).anySatisfy(x -> {
            assertThat(xpath(x, "//EventTypeCode/@csd-code")).isEqualTo("110122");
            assertThat(xpath(x, "//EventIdentification/@EventOutcomeIndicator")).isEqualTo("0");
        });
        Document viewed = all.stream().filter(isEvent("110111").and(x -> xpath(x,
                "//EventIdentification/@EventActionCode").equals("R"))).findFirst().orElseThrow();
        assertThat(xpath(viewed, "//ActiveParticipant[@UserIsRequestor='true']/@UserID")).isEqualTo("reader1");
        assertThat(xpath(viewed, "//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='3']"
                + "/@ParticipantObjectID")).isEqualTo(study.studyInstanceUid());
        assertThat(xpath(viewed, "//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='1']"
                + "/@ParticipantObjectID")).isEqualTo("PHANTOM-314159^^^CTTRIAGE-PHANTOM");
        Document reviewed = all.stream().filter(isEvent("110111").and(x -> xpath(x,
                "//EventIdentification/@EventActionCode").equals("U"))).findFirst().orElseThrow();
        assertThat(xpath(reviewed, "//EventTypeCode/@csd-code")).isEqualTo("WLREVIEW");
        assertThat(xpath(reviewed, "//EventOutcomeDescription")).startsWith("confirm");

        // The local file holds the same messages, one per line.
        List<String> lines = Files.readAllLines(auditFile, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(all.size());
        lines.forEach(l -> AuditSchema.assertValid(l.getBytes(StandardCharsets.UTF_8)));
        // And the operational log names no patient.
        assertThat(Files.readString(log)).doesNotContain(NAME).doesNotContain("PHANTOM-314159");
    }

    /** Through the worklist API as a browser would: a wrong password, a login, the study, a review, a logout. */
    private void worklistSession(Path log, String studyUid) throws Exception {
        String base = "http://127.0.0.1:" + httpPort(log) + "/api/v1/";
        HttpClient client = HttpClient.newHttpClient();
        HttpResponse<String> refused = client.send(post(base + "login", "{\"user\":\"reader1\",\"password\":"
                + "\"not the password\"}", null, null), HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(401);
        HttpResponse<String> login = client.send(post(base + "login", "{\"user\":\"reader1\",\"password\":\""
                + PASSWORD + "\"}", null, null), HttpResponse.BodyHandlers.ofString());
        assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
        String cookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";", 2)[0];
        String csrf = new com.fasterxml.jackson.databind.ObjectMapper().readTree(login.body()).path("csrfToken").asText();
        HttpResponse<String> view = Eventually.await(WAIT, "the study on the worklist", () -> client.send(
                HttpRequest.newBuilder(URI.create(base + "studies/" + studyUid)).header("Cookie", cookie).GET().build(),
                HttpResponse.BodyHandlers.ofString()), r -> r.statusCode() == 200);
        assertThat(view.body()).contains(studyUid);
        HttpResponse<String> review = client.send(post(base + "studies/" + studyUid + "/review",
                "{\"action\":\"confirm\"}", cookie, csrf), HttpResponse.BodyHandlers.ofString());
        assertThat(review.statusCode()).as(review.body()).isEqualTo(200);
        HttpResponse<String> logout = client.send(post(base + "logout", "{}", cookie, csrf),
                HttpResponse.BodyHandlers.ofString());
        assertThat(logout.statusCode()).as(logout.body()).isEqualTo(200);
    }

    private static HttpRequest post(String uri, String json, String cookie, String csrf) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(uri)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (cookie != null) {
            b.header("Cookie", cookie).header("X-CSRF-Token", csrf);
        }
        return b.build();
    }

    /** The HTTP port the node printed ("health: http://127.0.0.1:PORT/health/ready"; http.port=0). */
    private static int httpPort(Path log) throws Exception {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("health: https?://[^:]+:(\\d+)/health/ready")
                .matcher(Files.readString(log));
        assertThat(m.find()).as("the node's HTTP port in its output").isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static Predicate<Document> isEvent(String eventId) {
        return x -> xpath(x, "//EventID/@csd-code").equals(eventId);
    }

    private static List<Document> messages(SyslogServer collector) throws Exception {
        List<Document> docs = new ArrayList<>();
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        for (SyslogMessage m : collector.messages()) {
            docs.add(f.newDocumentBuilder().parse(new ByteArrayInputStream(m.msg())));
        }
        return docs;
    }

    private static String xpath(Document doc, String expression) {
        try {
            return XPathFactory.newInstance().newXPath().evaluate(expression, doc);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
