package org.cttriage.ups;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import com.pixelmed.dicom.UniqueIdentifierAttribute;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.Exporter.Attempt;
import org.cttriage.core.node.SeriesKey;
import org.cttriage.core.node.WorklistRepository;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The UPS exporter against {@link TestUpsServer}, which checks every request against PS3.18/PS3.4 and answers as a
 * server would: one workitem per study, created once, raised and never lowered while SCHEDULED, left alone once
 * claimed, and every fault classified. Each test ends with no rule broken.
 */
class UpsExporterTest {
    static final Instant T0 = Instant.parse("2026-04-14T09:10:00Z");
    static final String STUDY = "1.2.826.0.1.3680043.10.77";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    TestUpsServer server;
    final AtomicReference<WorklistRepository.Entry> entry = new AtomicReference<>();

    @BeforeEach
    void start() throws Exception {
        server = new TestUpsServer();
        entry.set(entry(Priority.STAT));
    }

    @AfterEach
    void stop() {
        assertThat(server.violations()).as("rules the node broke").isEmpty();
        server.close();
    }

    UpsExporter exporter(String... keys) {
        Map<String, String> config = new HashMap<>();
        config.put("ups.url", server.base().toString());
        config.put("ups.read-timeout", "2s");
        for (String k : keys) {
            config.put(k.substring(0, k.indexOf('=')), k.substring(k.indexOf('=') + 1));
        }
        return new UpsExporter(UpsOptions.fromConfig(config::get, "PACS"), Clock.fixed(T0, ZoneOffset.UTC),
                study -> Optional.ofNullable(entry.get()));
    }

    @Test
    void createsOneWorkitemForTheStudyAsTheStandardAsks() throws Exception {
        DeliveryLedger.Delivery d = delivery(sr("1.2.3.9.1"), "ACC7");

        Attempt a = exporter().attempt(d);

        String uid = WorkitemMapper.workitemUid(STUDY);
        assertThat(a).isInstanceOfSatisfying(Attempt.Delivered.class, x -> assertThat(x.detail())
                .isEqualTo("workitem " + uid + " created, SCHEDULED, priority HIGH (stat)"));
        assertThat(uid).as("docs/ups-mapping.md, Example").isEqualTo("2.25.46106615300141972939488479237483373671");
        assertThat(server.received()).singleElement().satisfies(r -> {
            assertThat(r.method()).isEqualTo("POST");
            assertThat(r.path()).isEqualTo("/rs/workitems");
            assertThat(r.query()).isEqualTo(uid);
            assertThat(r.contentType()).isEqualTo("application/dicom+json");
            assertThat(r.accept()).isEqualTo("application/dicom+json");
            assertThat(r.status()).isEqualTo(201);
        });
        Map<String, Object> w = server.workitems().get(uid);
        assertThat(TestUpsServer.first(w, "00741200")).isEqualTo("HIGH");
        assertThat(TestUpsServer.first(w, "00741000")).isEqualTo("SCHEDULED");
        assertThat(TestUpsServer.first(w, "00404041")).isEqualTo("READY");
        assertThat(TestUpsServer.first(w, "00404005")).isEqualTo("20260414091000+0000");
        assertThat(TestUpsServer.first(w, "0020000D")).isEqualTo(STUDY);
        assertThat(TestUpsServer.first(w, "00100020")).isEqualTo("PHANTOM-7");
        assertThat(TestUpsServer.first(w, "00400400")).contains("stat").contains("emphysema").doesNotContain("PHANTOM");
        assertThat(TestUpsServer.items(w, "00404018")).singleElement().satisfies(c -> {
            assertThat(TestUpsServer.first(c, "00080100")).isEqualTo("110005");
            assertThat(TestUpsServer.first(c, "00080102")).isEqualTo("DCM");
        });
        assertThat(TestUpsServer.items(w, "00404021")).singleElement().satisfies(i -> {
            assertThat(TestUpsServer.first(i, "0040E020")).isEqualTo("DICOM");
            assertThat(TestUpsServer.first(i, "0020000E")).isEqualTo("1.2.3.9");
            assertThat(TestUpsServer.items(i, "00081199")).singleElement().satisfies(s -> {
                assertThat(TestUpsServer.first(s, "00081150")).isEqualTo(SOPClass.Comprehensive3DSRStorage);
                assertThat(TestUpsServer.first(s, "00081155")).isEqualTo("1.2.3.9.1");
            });
            assertThat(TestUpsServer.items(i, "0040E021")).singleElement()
                    .satisfies(r -> assertThat(TestUpsServer.first(r, "00080054")).isEqualTo("PACS"));
        });
        assertThat(TestUpsServer.items(w, "0040A370")).singleElement().satisfies(r -> {
            assertThat(TestUpsServer.first(r, "00080050")).isEqualTo("ACC7");
            assertThat(TestUpsServer.first(r, "0020000D")).isEqualTo(STUDY);
            assertThat(TestUpsServer.first(r, "00402016")).isEqualTo("PL-1");
        });
    }

    @Test
    void aRepeatedCreateMeets409AndNeverMakesASecondWorkitem() throws Exception {
        DeliveryLedger.Delivery d = delivery(sr("1.2.3.9.1"), "ACC7");
        UpsExporter exporter = exporter();
        assertThat(exporter.attempt(d)).isInstanceOf(Attempt.Delivered.class);

        assertThat(exporter.attempt(d)).isInstanceOfSatisfying(Attempt.Delivered.class, x -> assertThat(x.detail())
                .endsWith(" already HIGH"));

        assertThat(server.workitems()).hasSize(1);
        assertThat(server.received()).extracting(r -> r.method() + " " + r.status())
                .containsExactly("POST 201", "POST 409", "GET 200");
    }

    @Test
    void aHigherPriorityRaisesTheScheduledWorkitemAndALowerOneNeverLowersIt() throws Exception {
        entry.set(entry(Priority.ROUTINE));
        DeliveryLedger.Delivery d = delivery(sr("1.2.3.9.1"), "ACC7");
        UpsExporter exporter = exporter();
        assertThat(exporter.attempt(d)).isInstanceOf(Attempt.Delivered.class);
        String uid = WorkitemMapper.workitemUid(STUDY);
        assertThat(TestUpsServer.first(server.workitems().get(uid), "00741200")).isEqualTo("MEDIUM");

        entry.set(entry(Priority.STAT));
        assertThat(exporter.attempt(d)).isInstanceOfSatisfying(Attempt.Delivered.class, x -> assertThat(x.detail())
                .isEqualTo("workitem " + uid + " updated: priority raised from MEDIUM to HIGH (stat)"));
        TestUpsServer.Received update = server.received().get(server.received().size() - 1);
        assertThat(update.method() + " " + update.path() + " " + update.query())
                .isEqualTo("POST /rs/workitems/" + uid + " null");
        assertThat(update.contentType()).isEqualTo("application/dicom+json");
        Map<?, ?> sent = (Map<?, ?>) ((List<?>) JSON.readValue(update.body(), List.class)).get(0);
        assertThat(sent.keySet().stream().map(String::valueOf).toList()).containsExactlyInAnyOrder("00741200", "00400400");
        assertThat(TestUpsServer.first(server.workitems().get(uid), "00741200")).isEqualTo("HIGH");
        assertThat(TestUpsServer.first(server.workitems().get(uid), "00741000")).isEqualTo("SCHEDULED");

        entry.set(entry(Priority.ROUTINE));
        int before = server.received().size();
        assertThat(exporter.attempt(d)).isInstanceOfSatisfying(Attempt.Delivered.class, x -> assertThat(x.detail())
                .isEqualTo("workitem " + uid + " already HIGH, not lowered to MEDIUM"));
        assertThat(server.received().subList(before, server.received().size())).extracting(TestUpsServer.Received::method)
                .containsExactly("POST", "GET");
        assertThat(TestUpsServer.first(server.workitems().get(uid), "00741200")).isEqualTo("HIGH");
    }

    @Test
    void aLaterResultsSrBecomesTheWorkitemsInput() throws Exception {
        UpsExporter exporter = exporter();
        assertThat(exporter.attempt(delivery(sr("1.2.3.9.1"), "ACC7"))).isInstanceOf(Attempt.Delivered.class);
        assertThat(exporter.attempt(delivery(sr("1.2.3.9.2"), "ACC7"))).isInstanceOfSatisfying(Attempt.Delivered.class,
                x -> assertThat(x.detail()).endsWith("priority HIGH kept, not lowered, input now this result's SR"));
        Map<String, Object> w = server.workitems().get(WorkitemMapper.workitemUid(STUDY));
        assertThat(TestUpsServer.items(w, "00404021")).singleElement().satisfies(i -> assertThat(TestUpsServer
                .first(TestUpsServer.items(i, "00081199").get(0), "00081155")).isEqualTo("1.2.3.9.2"));
    }

    @Test
    void aWorkitemItsPerformerClaimedOrFinishedIsLeftAlone() throws Exception {
        entry.set(entry(Priority.URGENT));
        DeliveryLedger.Delivery d = delivery(sr("1.2.3.9.1"), "ACC7");
        UpsExporter exporter = exporter("ups.priority-map=routine=LOW,urgent=MEDIUM,asap=HIGH,stat=HIGH");
        assertThat(exporter.attempt(d)).isInstanceOf(Attempt.Delivered.class);
        String uid = WorkitemMapper.workitemUid(STUDY);
        for (String state : List.of("IN PROGRESS", "COMPLETED", "CANCELED")) {
            server.setState(uid, state);
            entry.set(entry(Priority.STAT));
            int before = server.received().size();
            assertThat(exporter.attempt(d)).as(state).isInstanceOfSatisfying(Attempt.Delivered.class, x -> assertThat(
                    x.detail()).isEqualTo("workitem " + uid + " is " + state + ": only its performer may change it now"
                            + " (PS3.4 CC.1.1), priority HIGH (stat) not sent"));
            assertThat(server.received().subList(before, server.received().size())).extracting(r -> r.method())
                    .containsExactly("POST", "GET");
            assertThat(TestUpsServer.first(server.workitems().get(uid), "00741200")).isEqualTo("MEDIUM");
        }
    }

    @Test
    void aStudyWithoutAccessionNumberGetsAWorkitemWithoutReferencedRequest() throws Exception {
        assertThat(exporter().attempt(delivery(sr("1.2.3.9.1"), ""))).isInstanceOfSatisfying(Attempt.Delivered.class,
                x -> assertThat(x.detail()).endsWith("the study has no accession number: no Referenced Request"));
        Map<String, Object> w = server.workitems().get(WorkitemMapper.workitemUid(STUDY));
        assertThat(w).containsKey("0040A370");
        assertThat(TestUpsServer.items(w, "0040A370")).isEmpty();
    }

    @Test
    void outagesRetryAndTheWorkitemIsCreatedOnceWhenTheServerIsBack() throws Exception {
        DeliveryLedger.Delivery d = delivery(sr("1.2.3.9.1"), "ACC7");
        UpsExporter exporter = exporter();
        server.unavailable(true);
        assertThat(exporter.attempt(d)).isInstanceOfSatisfying(Attempt.Retry.class, r -> {
            assertThat(r.error()).isEqualTo("TRIAGE-0821 Create Workitem answered HTTP 503");
            assertThat(r.after()).isEqualTo(Duration.ofSeconds(1));
        });
        server.unavailable(false);
        server.stopListening();
        assertThat(exporter.attempt(d)).isInstanceOfSatisfying(Attempt.Retry.class, r -> assertThat(r.error())
                .startsWith("TRIAGE-0821 no answer from " + server.base()));
        server.resumeListening();
        server.loseNextAnswers(1);
        assertThat(exporter.attempt(d)).as("created, the answer lost").isInstanceOf(Attempt.Retry.class);
        assertThat(exporter.attempt(d)).isInstanceOfSatisfying(Attempt.Delivered.class, x -> assertThat(x.detail())
                .endsWith(" already HIGH"));
        assertThat(server.workitems()).hasSize(1);
    }

    @Test
    void refusalsAreRejectedWithTheirCodedPartsOnly() throws Exception {
        DeliveryLedger.Delivery d = delivery(sr("1.2.3.9.1"), "ACC7");
        server.answerNext(400, "299 pacs: Invalid Attribute Value (0010,0020) PHANTOM-7 12345678");
        assertThat(exporter().attempt(d)).isInstanceOfSatisfying(Attempt.Rejected.class, r -> assertThat(r.error())
                .isEqualTo("TRIAGE-0822 Create Workitem answered HTTP 400, Warning 299 (0010,0020)"));

        assertThat(exporter("ups.url=" + server.base() + "/nothing-here").attempt(d))
                .isInstanceOfSatisfying(Attempt.Rejected.class, r -> assertThat(r.error()).startsWith(
                        "TRIAGE-0822 Create Workitem answered HTTP 404 (no Worklist Service at"));

        server.requireAuthorization("Basic " + java.util.Base64.getEncoder().encodeToString("node:pw".getBytes()));
        assertThat(exporter().attempt(d)).isInstanceOfSatisfying(Attempt.Rejected.class, r -> assertThat(r.error())
                .isEqualTo("TRIAGE-0822 Create Workitem answered HTTP 401 (authentication: check ups.auth)"));
        assertThat(exporter("ups.auth=basic", "ups.user=node", "ups.password=pw").attempt(d))
                .isInstanceOf(Attempt.Delivered.class);
        server.clear();
    }

    static WorklistRepository.Entry entry(Priority p) {
        return new WorklistRepository.Entry(STUDY, p, List.of("emphysema"), "model", WorklistRepository.State.NEW, T0,
                T0, T0, null, null);
    }

    DeliveryLedger.Delivery delivery(Path sr, String accession) {
        return new DeliveryLedger.Delivery(1, 1, "ups", DeliveryState.PENDING, 0, null, new SeriesKey(STUDY, "1.2.3.5"),
                sr, "{}", T0, "{\"StudyInstanceUID\":\"" + STUDY + "\",\"PatientID\":\"PHANTOM-7\","
                        + "\"IssuerOfPatientID\":\"\",\"AccessionNumber\":\"" + accession + "\",\"RequestedProcedureID\":"
                        + "\"RP-1\",\"PlacerOrderNumberImagingServiceRequest\":\"PL-1\"}", null, null);
    }

    /** A file with the header of an SR the node wrote: SOP Instance UID {@code uid}, series 1.2.3.9. */
    Path sr(String uid) throws Exception {
        AttributeList list = new AttributeList();
        put(list, TagFromName.SOPClassUID, SOPClass.Comprehensive3DSRStorage);
        put(list, TagFromName.SOPInstanceUID, uid);
        put(list, TagFromName.StudyInstanceUID, STUDY);
        put(list, TagFromName.SeriesInstanceUID, "1.2.3.9");
        FileMetaInformation.addFileMetaInformation(list, TransferSyntax.ExplicitVRLittleEndian, "CTTRIAGE");
        Path f = dir.resolve(uid + ".dcm");
        list.write(f.toString(), TransferSyntax.ExplicitVRLittleEndian, true, true);
        return f;
    }

    private static void put(AttributeList list, com.pixelmed.dicom.AttributeTag tag, String value) throws Exception {
        Attribute a = new UniqueIdentifierAttribute(tag);
        a.addValue(value);
        list.put(a);
    }
}
