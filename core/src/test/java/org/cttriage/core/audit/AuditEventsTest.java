package org.cttriage.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.cttriage.core.audit.AuditEvents.Patient;
import org.cttriage.core.audit.AuditEvents.Peer;
import org.cttriage.core.audit.AuditEvents.StudyInstances;
import org.cttriage.core.audit.AuditMessage.Outcome;
import org.cttriage.testdata.audit.AuditSchema;
import org.junit.jupiter.api.Test;

/**
 * Every message the node sends, checked against the DICOM Audit Message Schema of PS3.15 A.5.1
 * (the standard's own RELAX NG text) and then field by field against the table of A.5.3 that
 * specialises it.
 */
class AuditEventsTest {
    static final Instant NOW = Instant.parse("2026-12-03T10:15:30.123456Z");
    static final AuditEvents EVENTS = new AuditEvents(new AuditEvents.Reporter("CTTRIAGE@ward", Optional.of("HOSP"),
            "CTTRIAGE", "ct-node.example.org", 4242, "ct-triage serve", "cttriage"), Clock.fixed(NOW, ZoneOffset.UTC));
    static final String CT = "1.2.840.10008.5.1.4.1.1.2";
    static final StudyInstances STUDY = new StudyInstances("1.2.3.4", new Patient("PID-7", "HOSP", "Doe^Jane"),
            List.of("ACC9"), Map.of(CT, 96));

    @Test
    void applicationStartAndStopAsA531() throws Exception {
        AuditXmlAssert start = AuditXmlAssert.of(EVENTS.applicationStarted());
        assertThat(start.get("/AuditMessage/EventIdentification/EventID/@csd-code")).isEqualTo("110100");
        assertThat(start.get("/AuditMessage/EventIdentification/@EventActionCode")).isEqualTo("E");
        assertThat(start.get("/AuditMessage/EventIdentification/@EventDateTime")).isEqualTo("2026-12-03T10:15:30.123456Z");
        assertThat(start.get("/AuditMessage/EventIdentification/@EventOutcomeIndicator")).isEqualTo("0");
        assertThat(start.get("/AuditMessage/EventIdentification/EventTypeCode/@csd-code")).isEqualTo("110120");
        // The application (110150), with its AE title as A.5.2.2 writes it, and its launcher (110151).
        assertThat(start.get("//ActiveParticipant[RoleIDCode/@csd-code='110150']/@AlternativeUserID"))
                .isEqualTo("AETITLES=CTTRIAGE");
        assertThat(start.get("//ActiveParticipant[RoleIDCode/@csd-code='110150']/@UserID")).isEqualTo("4242");
        assertThat(start.get("//ActiveParticipant[RoleIDCode/@csd-code='110151']/@UserID"))
                .isEqualTo("cttriage@ct-node.example.org");
        assertThat(start.get("/AuditMessage/AuditSourceIdentification/@AuditSourceID")).isEqualTo("CTTRIAGE@ward");
        assertThat(start.get("/AuditMessage/AuditSourceIdentification/@AuditEnterpriseSiteID")).isEqualTo("HOSP");
        assertThat(start.get("/AuditMessage/AuditSourceIdentification/AuditSourceTypeCode/@csd-code")).isEqualTo("4");
        assertThat(start.all("//ParticipantObjectIdentification")).isEmpty();
        AuditXmlAssert stop = AuditXmlAssert.of(EVENTS.applicationStopped());
        assertThat(stop.get("/AuditMessage/EventIdentification/EventTypeCode/@csd-code")).isEqualTo("110121");
    }

    @Test
    void instancesReceivedAsA537WithStudyAndPatient() throws Exception {
        AuditXmlAssert m = AuditXmlAssert.of(EVENTS.instancesReceived(new Peer("PACS", "10.0.0.5"), STUDY, true, NOW,
                Outcome.SUCCESS, Optional.empty()));
        assertThat(m.get("/AuditMessage/EventIdentification/EventID/@csd-code")).isEqualTo("110104");
        assertThat(m.get("/AuditMessage/EventIdentification/@EventActionCode")).isEqualTo("R");
        // Source (110153): the PACS, requestor, by its AE title and address; destination (110152): us.
        assertThat(m.get("//ActiveParticipant[RoleIDCode/@csd-code='110153']/@UserID")).isEqualTo("PACS");
        assertThat(m.get("//ActiveParticipant[RoleIDCode/@csd-code='110153']/@UserIsRequestor")).isEqualTo("true");
        assertThat(m.get("//ActiveParticipant[RoleIDCode/@csd-code='110153']/@NetworkAccessPointID")).isEqualTo("10.0.0.5");
        assertThat(m.get("//ActiveParticipant[RoleIDCode/@csd-code='110153']/@NetworkAccessPointTypeCode")).isEqualTo("2");
        assertThat(m.get("//ActiveParticipant[RoleIDCode/@csd-code='110152']/@UserIsRequestor")).isEqualTo("false");
        assertThat(m.get("//ActiveParticipant[RoleIDCode/@csd-code='110152']/@NetworkAccessPointTypeCode")).isEqualTo("1");
        // Study: system object (2), report (3), 110180, with its SOP class count and accession.
        String study = "//ParticipantObjectIdentification[ParticipantObjectIDTypeCode/@csd-code='110180']";
        assertThat(m.get(study + "/@ParticipantObjectID")).isEqualTo("1.2.3.4");
        assertThat(m.get(study + "/@ParticipantObjectTypeCode")).isEqualTo("2");
        assertThat(m.get(study + "/@ParticipantObjectTypeCodeRole")).isEqualTo("3");
        assertThat(m.get(study + "/ParticipantObjectDescription/SOPClass/@UID")).isEqualTo(CT);
        assertThat(m.get(study + "/ParticipantObjectDescription/SOPClass/@NumberOfInstances")).isEqualTo("96");
        assertThat(m.get(study + "/ParticipantObjectDescription/Accession/@Number")).isEqualTo("ACC9");
        assertThat(m.get(study + "/ParticipantObjectDescription/Encrypted")).isEqualTo("true");
        // Patient: person (1), patient (1), RFC 3881 type 2, ID in CX form with its issuer, the name.
        String patient = "//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='1']";
        assertThat(m.get(patient + "/@ParticipantObjectTypeCode")).isEqualTo("1");
        assertThat(m.get(patient + "/@ParticipantObjectID")).isEqualTo("PID-7^^^HOSP");
        assertThat(m.get(patient + "/ParticipantObjectIDTypeCode/@csd-code")).isEqualTo("2");
        assertThat(m.get(patient + "/ParticipantObjectIDTypeCode/@codeSystemName")).isEqualTo("RFC-3881");
        assertThat(m.get(patient + "/ParticipantObjectName")).isEqualTo("Doe^Jane");
    }

    @Test
    void aRefusedTransferIsAFailureWithItsReason() throws Exception {
        AuditXmlAssert m = AuditXmlAssert.of(EVENTS.instancesReceived(new Peer("PACS", "10.0.0.5"), STUDY, false, NOW,
                Outcome.MINOR_FAILURE, Optional.of("2 instance(s) not stored: A900H x2")));
        assertThat(m.get("/AuditMessage/EventIdentification/@EventOutcomeIndicator")).isEqualTo("4");
        assertThat(m.get("/AuditMessage/EventIdentification/EventOutcomeDescription")).contains("A900H");
    }

    @Test
    void srSentAsA537FromUs() throws Exception {
        StudyInstances sr = new StudyInstances("1.2.3.4", STUDY.patient(), List.of(), Map.of("1.2.840.10008.5.1.4.1.1.88.34", 1));
        AuditXmlAssert m = AuditXmlAssert.of(EVENTS.instancesSent(new Peer("PACS", "pacs.example.org"), sr, false,
                Outcome.SUCCESS, Optional.empty()));
        assertThat(m.get("//ActiveParticipant[RoleIDCode/@csd-code='110153']/@UserID")).isEqualTo("4242");
        assertThat(m.get("//ActiveParticipant[RoleIDCode/@csd-code='110153']/@UserIsRequestor")).isEqualTo("true");
        assertThat(m.get("//ActiveParticipant[RoleIDCode/@csd-code='110152']/@UserID")).isEqualTo("PACS");
        assertThat(m.get("//SOPClass/@UID")).isEqualTo("1.2.840.10008.5.1.4.1.1.88.34");
    }

    @Test
    void fhirExportAsA534WithTheServerAsMedia() throws Exception {
        AuditXmlAssert m = AuditXmlAssert.of(EVENTS.exported("https://fhir.example.org/fhir", "1.2.3.4",
                STUDY.patient(), Outcome.SUCCESS, Optional.empty(),
                List.of(new AuditMessage.Detail("DiagnosticReport", "urn:cttriage:report:1"))));
        assertThat(m.get("/AuditMessage/EventIdentification/EventID/@csd-code")).isEqualTo("110106");
        assertThat(m.get("/AuditMessage/EventIdentification/@EventActionCode")).isEqualTo("R");
        String media = "//ActiveParticipant[RoleIDCode/@csd-code='110154']";
        assertThat(m.get(media + "/@UserID")).isEqualTo("https://fhir.example.org/fhir");
        assertThat(m.get(media + "/@UserIsRequestor")).isEqualTo("false");
        assertThat(m.get(media + "/@NetworkAccessPointTypeCode")).isEqualTo("5");
        assertThat(m.get(media + "/MediaIdentifier/MediaType/@csd-code")).isEqualTo("110037");
        assertThat(m.get("//ActiveParticipant[@UserIsRequestor='true']/@UserID")).isEqualTo("4242");
        assertThat(m.get("//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='3']"
                + "/@ParticipantObjectDataLifeCycle")).isEqualTo("10");
        String detail = m.get("//ParticipantObjectDetail[@type='DiagnosticReport']/@value");
        assertThat(new String(Base64.getDecoder().decode(detail), StandardCharsets.UTF_8)).isEqualTo("urn:cttriage:report:1");
        assertThat(m.get("//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='1']/@ParticipantObjectID"))
                .isEqualTo("PID-7^^^HOSP");
    }

    @Test
    void hl7OrderChangeAsOrderRecordUpdateA5313() throws Exception {
        AuditXmlAssert m = AuditXmlAssert.of(EVENTS.orderUpdated("mllp://ris.example.org:2575", STUDY.patient(),
                Outcome.SUCCESS, Optional.empty(), List.of(new AuditMessage.Detail("Accession Number", "ACC9"))));
        assertThat(m.get("/AuditMessage/EventIdentification/EventID/@csd-code")).isEqualTo("110109");
        assertThat(m.get("/AuditMessage/EventIdentification/@EventActionCode")).isEqualTo("U");
        assertThat(m.get("//ActiveParticipant[@UserIsRequestor='true']/@UserID")).isEqualTo("4242");
        assertThat(m.get("//ActiveParticipant[RoleIDCode/@csd-code='110152']/@NetworkAccessPointID"))
                .isEqualTo("mllp://ris.example.org:2575");
        assertThat(m.all("//ParticipantObjectIdentification")).hasSize(1);
        assertThat(m.get("//ParticipantObjectIdentification/@ParticipantObjectID")).isEqualTo("PID-7^^^HOSP");
    }

    @Test
    void associationsAndTlsFailuresAsSecurityAlertsA5311() throws Exception {
        AuditXmlAssert rejected = AuditXmlAssert.of(EVENTS.association(new Peer("INTRUDER", "10.9.9.9"), "CTTRIAGE",
                false, "association from INTRUDER (10.9.9.9) rejected: calling AE title INTRUDER is not in the allow-list"));
        assertThat(rejected.get("/AuditMessage/EventIdentification/EventID/@csd-code")).isEqualTo("110113");
        assertThat(rejected.get("/AuditMessage/EventIdentification/EventTypeCode/@csd-code")).isEqualTo("110126");
        assertThat(rejected.get("/AuditMessage/EventIdentification/@EventOutcomeIndicator")).isEqualTo("4");
        String subject = "//ParticipantObjectIdentification";
        assertThat(rejected.get(subject + "/ParticipantObjectIDTypeCode/@csd-code")).isEqualTo("110182");
        assertThat(rejected.get(subject + "/@ParticipantObjectID")).isEqualTo("10.9.9.9");
        assertThat(rejected.get(subject + "/@ParticipantObjectTypeCode")).isEqualTo("2");
        // A.5.3.11: a detail of type "Alert Description" is mandatory.
        String description = rejected.get(subject + "/ParticipantObjectDetail[@type='Alert Description']/@value");
        assertThat(new String(Base64.getDecoder().decode(description), StandardCharsets.UTF_8)).contains("allow-list");
        // Performing participants shall not be the requestor.
        assertThat(rejected.all("//ActiveParticipant[@UserIsRequestor='true']")).isEmpty();

        AuditXmlAssert accepted = AuditXmlAssert.of(EVENTS.association(new Peer("PACS", "10.0.0.5"), "CTTRIAGE", true,
                "association from PACS (10.0.0.5) accepted"));
        assertThat(accepted.get("/AuditMessage/EventIdentification/@EventOutcomeIndicator")).isEqualTo("0");

        AuditXmlAssert burst = AuditXmlAssert.of(EVENTS.nodeAuthenticationFailed("10.9.9.9", Outcome.SERIOUS_FAILURE,
                "10 TLS failures from 10.9.9.9 within a minute"));
        assertThat(burst.get("/AuditMessage/EventIdentification/@EventOutcomeIndicator")).isEqualTo("8");
    }

    @Test
    void auditRecordingStoppedAndStarted() throws Exception {
        AuditXmlAssert stopped = AuditXmlAssert.of(EVENTS.auditRecording(false, "file:///var/audit-spool/", "full"));
        assertThat(stopped.get("/AuditMessage/EventIdentification/EventTypeCode/@csd-code")).isEqualTo("110133");
        assertThat(stopped.get("//ParticipantObjectIDTypeCode/@csd-code")).isEqualTo("12");
        AuditXmlAssert started = AuditXmlAssert.of(EVENTS.auditRecording(true, "file:///var/audit-spool/", "again"));
        assertThat(started.get("/AuditMessage/EventIdentification/EventTypeCode/@csd-code")).isEqualTo("110134");
    }

    @Test
    void patientDataInTheLogIsASecurityConfigurationAlert() throws Exception {
        AuditXmlAssert m = AuditXmlAssert.of(EVENTS.securityConfiguration("urn:ct-triage:configuration:log.patient-data",
                "log.patient-data is on"));
        assertThat(m.get("/AuditMessage/EventIdentification/EventID/@csd-code")).isEqualTo("110113");
        assertThat(m.get("/AuditMessage/EventIdentification/EventTypeCode/@csd-code")).isEqualTo("110129");
        assertThat(m.get("//ParticipantObjectIdentification/@ParticipantObjectID"))
                .isEqualTo("urn:ct-triage:configuration:log.patient-data");
    }

    @Test
    void worklistViewsAndReviewsAsProcedureRecordsA5315() throws Exception {
        AuditXmlAssert view = AuditXmlAssert.of(EVENTS.worklistStudy("reader1", "10.1.2.3", false, "1.2.3.4",
                STUDY.patient(), Optional.empty()));
        assertThat(view.get("/AuditMessage/EventIdentification/EventID/@csd-code")).isEqualTo("110111");
        assertThat(view.get("/AuditMessage/EventIdentification/@EventActionCode")).isEqualTo("R");
        assertThat(view.get("//ActiveParticipant[@UserIsRequestor='true']/@UserID")).isEqualTo("reader1");
        assertThat(view.get("//ActiveParticipant[@UserIsRequestor='true']/@NetworkAccessPointID")).isEqualTo("10.1.2.3");
        AuditXmlAssert review = AuditXmlAssert.of(EVENTS.worklistStudy("reader1", "10.1.2.3", true, "1.2.3.4",
                STUDY.patient(), Optional.of("reprioritise: priority stat")));
        assertThat(review.get("/AuditMessage/EventIdentification/@EventActionCode")).isEqualTo("U");
        assertThat(review.get("/AuditMessage/EventIdentification/EventTypeCode/@csd-code")).isEqualTo("WLREVIEW");
    }

    @Test
    void userAuthenticationAsA5312() throws Exception {
        AuditXmlAssert m = AuditXmlAssert.of(EVENTS.userAuthentication("radiologist@hospital", Optional.of("Dr Who"),
                "10.1.2.3", true, Outcome.MINOR_FAILURE, Optional.of("wrong password")));
        assertThat(m.get("/AuditMessage/EventIdentification/EventID/@csd-code")).isEqualTo("110114");
        assertThat(m.get("/AuditMessage/EventIdentification/EventTypeCode/@csd-code")).isEqualTo("110122");
        // A.5.3.12: the person's network access point is mandatory.
        assertThat(m.get("//ActiveParticipant[@UserIsRequestor='true']/@NetworkAccessPointID")).isEqualTo("10.1.2.3");
        assertThat(m.all("//ParticipantObjectIdentification")).isEmpty();
    }

    @Test
    void deadLetterActionsAsProcedureRecordUpdatesA5315() throws Exception {
        AuditXmlAssert m = AuditXmlAssert.of(EVENTS.deadLetterAction(false, "1.2.3.4", STUDY.patient(), Outcome.SUCCESS,
                Optional.empty(), List.of(new AuditMessage.Detail("Delivery", "17 pacs"))));
        assertThat(m.get("/AuditMessage/EventIdentification/EventID/@csd-code")).isEqualTo("110111");
        assertThat(m.get("/AuditMessage/EventIdentification/@EventActionCode")).isEqualTo("U");
        assertThat(m.get("/AuditMessage/EventIdentification/EventTypeCode/@csd-code")).isEqualTo("DLDISCARD");
        assertThat(m.get("/AuditMessage/EventIdentification/EventTypeCode/@codeSystemName")).isEqualTo("99CTTRIAGE");
        assertThat(m.get("//ActiveParticipant[@UserIsRequestor='true']/@UserID")).isEqualTo("cttriage@ct-node.example.org");
        assertThat(m.get("//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='3']/@ParticipantObjectID"))
                .isEqualTo("1.2.3.4");
    }

    @Test
    void textThatXmlCannotCarryIsReplacedAndMarkupIsEscaped() throws Exception {
        Patient awkward = new Patient("ID<&\">", "", "Smith^J\u001b$B\u0000\nohn^\uD83D\uDE00^\uD800");
        AuditMessage m = EVENTS.instancesReceived(new Peer("PACS", "10.0.0.5"), new StudyInstances("1.2.3.4", awkward,
                List.of(), Map.of(CT, 1)), false, NOW, Outcome.SUCCESS, Optional.of("line one\nline two"));
        AuditXmlAssert x = AuditXmlAssert.of(m);
        assertThat(x.text()).doesNotContain("\n").doesNotContain("\u0000");
        assertThat(x.get("//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='1']/@ParticipantObjectID"))
                .isEqualTo("ID<&\">");
        // A valid pair (the emoji) survives; the lone surrogate does not.
        assertThat(x.get("//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='1']/ParticipantObjectName"))
                .isEqualTo("Smith^J $B  ohn^\uD83D\uDE00^\uFFFD");
    }

    @Test
    void theSchemaRejectsWhatTheStandardForbids() {
        // The validator is no formality: a message without the mandatory originalText, or with an
        // unknown action code, fails.
        byte[] bad = ("<AuditMessage><EventIdentification EventActionCode=\"X\" EventDateTime=\"2026-01-01T00:00:00Z\""
                + " EventOutcomeIndicator=\"0\"><EventID csd-code=\"110100\" codeSystemName=\"DCM\"/></EventIdentification>"
                + "<ActiveParticipant UserID=\"1\" UserIsRequestor=\"false\"/><AuditSourceIdentification AuditSourceID=\"x\"/>"
                + "</AuditMessage>").getBytes(StandardCharsets.UTF_8);
        assertThat(AuditSchema.errors(bad)).hasSize(2);
    }
}
