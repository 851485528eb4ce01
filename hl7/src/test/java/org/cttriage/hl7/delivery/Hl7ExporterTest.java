package org.cttriage.hl7.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.ErrorCode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.cttriage.core.domain.ModelIdentity;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.Exporter.Attempt;
import org.cttriage.core.node.RetryPolicy;
import org.cttriage.core.node.SeriesKey;
import org.cttriage.hl7.mapping.MessageType;
import org.cttriage.hl7.mapping.OrderMessageOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The exporter against a real MLLP listener ({@link TestRis} on 127.0.0.1): one attempt, one message, and the
 * acknowledgement (or its absence) decides the outcome the delivery model records.
 */
class Hl7ExporterTest {
    static final String STUDY = "1.2.826.0.1.3680043.10.77";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-03-14T08:26:53Z"), ZoneOffset.UTC);

    private TestRis ris;
    private Hl7Exporter exporter;

    @BeforeEach
    void start() throws Exception {
        ris = TestRis.start();
        exporter = exporter(MessageType.ORM_O01, Priority.URGENT, Duration.ofSeconds(2));
    }

    @AfterEach
    void stop() throws Exception {
        exporter.close();
        ris.close();
    }

    private Hl7Exporter exporter(MessageType type, Priority min, Duration ackTimeout) {
        return new Hl7Exporter(new Hl7Options(ris.host(), ris.port(), OrderMessageOptions.defaults(type), min,
                Duration.ofSeconds(2), ackTimeout, new RetryPolicy(3, Duration.ofSeconds(1), 2, Duration.ofSeconds(5))),
                CLOCK);
    }

    static DeliveryLedger.Delivery delivery(long id, Priority priority, Map<String, String> source) throws Exception {
        TriageResult result = new TriageResult(STUDY, STUDY + ".2", List.of(STUDY + ".2.1"), List.of(), Map.of(),
                priority, new ModelIdentity("ctglip-ref", "1.0", "00"), Map.of());
        return new DeliveryLedger.Delivery(id, 7, "hl7", DeliveryState.PENDING, 0, null,
                new SeriesKey(STUDY, STUDY + ".2"), Path.of("unused.dcm"), JSON.writeValueAsString(result),
                Instant.EPOCH, JSON.writeValueAsString(source), null, null);
    }

    static Map<String, String> source(String accession) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("StudyInstanceUID", STUDY);
        s.put("PatientID", "PAT-123");
        s.put("IssuerOfPatientID", "HOSP-A");
        s.put("StudyDate", "20260314");
        s.put("StudyTime", "091500");
        s.put("AccessionNumber", accession);
        s.put("RequestedProcedureID", "RP-5");
        s.put("ScheduledProcedureStepID", "SPS-5.1");
        s.put("PlacerOrderNumberImagingServiceRequest", "PL-778");
        s.put("FillerOrderNumberImagingServiceRequest", "");
        return s;
    }

    @Test
    void anAaAcknowledgementDeliversOneMessageWithThePriority() throws Exception {
        Attempt a = exporter.attempt(delivery(41, Priority.STAT, source("ACC0042")));
        assertThat(a).isInstanceOf(Attempt.Delivered.class);
        assertThat(((Attempt.Delivered) a).detail()).startsWith("RIS accepted (AA) priority S (stat), MSH-10 ")
                .doesNotContain("ACC0042").doesNotContain("PAT-123");
        assertThat(ris.received()).singleElement().satisfies(m -> assertThat(TestRis.segments(m))
                .anySatisfy(s -> assertThat(s).startsWith("ORC|XO|PL-778|||||^^^^^S||20260314082653+0000|"))
                .anySatisfy(s -> assertThat(s).startsWith("PID|1||PAT-123^^^HOSP-A"))
                .anySatisfy(s -> assertThat(s).contains("|ACC0042|RP-5|SPS-5.1|")));
        assertThat(kind()).isEqualTo("hl7");
    }

    private String kind() {
        return exporter.kind();
    }

    @Test
    void anAeIsRejectedWithTheErrorsCodesAndLocationButNotItsText() throws Exception {
        ris.answer(new TestRis.Answer.Ack(AcknowledgmentCode.AE, ErrorCode.UNKNOWN_KEY_IDENTIFIER,
                "no order ACC0042 for patient PAT-123"));
        Attempt a = exporter.attempt(delivery(42, Priority.STAT, source("ACC0042")));
        assertThat(a).isInstanceOf(Attempt.Rejected.class);
        String error = ((Attempt.Rejected) a).error();
        assertThat(error).startsWith("TRIAGE-0802 RIS answered AE (application error): ERR-3 204")
                .contains("severity E")
                .as("the RIS's free text may quote patient data: debug log only")
                .doesNotContain("ACC0042").doesNotContain("PAT-123");
        assertThat(ris.received()).hasSize(1);
    }

    @Test
    void anArIsRejected() throws Exception {
        ris.answer(new TestRis.Answer.Ack(AcknowledgmentCode.AR, ErrorCode.UNSUPPORTED_MESSAGE_TYPE,
                "ORM not supported"));
        Attempt a = exporter.attempt(delivery(43, Priority.STAT, source("ACC0042")));
        assertThat(a).isInstanceOf(Attempt.Rejected.class);
        assertThat(((Attempt.Rejected) a).error()).startsWith("TRIAGE-0802 RIS answered AR (application reject): ERR-3 200");
    }

    @Test
    void anErrorTheStandardCallsTransientIsRetried() throws Exception {
        ris.answer(new TestRis.Answer.Ack(AcknowledgmentCode.AE, ErrorCode.APPLICATION_INTERNAL_ERROR, "db down"));
        Attempt a = exporter.attempt(delivery(44, Priority.STAT, source("ACC0042")));
        assertThat(a).isInstanceOf(Attempt.Retry.class);
        assertThat(((Attempt.Retry) a).error()).startsWith("TRIAGE-0801 RIS answered AE (application error),"
                + " transient: ERR-3 207");
    }

    @Test
    void commitAcknowledgementsAsTheEnhancedModeDefinesThem() throws Exception {
        ris.answer(new TestRis.Answer.Ack(AcknowledgmentCode.CA, null, null));
        assertThat(exporter.attempt(delivery(45, Priority.STAT, source("ACC0042"))))
                .isInstanceOf(Attempt.Delivered.class);
        ris.answer(new TestRis.Answer.Ack(AcknowledgmentCode.CE, ErrorCode.APPLICATION_INTERNAL_ERROR, "full"));
        Attempt ce = exporter.attempt(delivery(46, Priority.STAT, source("ACC0042")));
        assertThat(ce).isInstanceOf(Attempt.Retry.class);
        assertThat(((Attempt.Retry) ce).error()).startsWith("TRIAGE-0801 RIS answered CE (commit error)");
        ris.answer(new TestRis.Answer.Ack(AcknowledgmentCode.CR, ErrorCode.UNSUPPORTED_VERSION_ID, "2.5.1?"));
        Attempt cr = exporter.attempt(delivery(47, Priority.STAT, source("ACC0042")));
        assertThat(cr).isInstanceOf(Attempt.Rejected.class);
        assertThat(((Attempt.Rejected) cr).error()).startsWith("TRIAGE-0802 RIS answered CR (commit reject): ERR-3 203");
        assertThat(ris.received()).hasSize(3);
    }

    @Test
    void aRisThatDoesNotAnswerInTimeIsRetried() throws Exception {
        try (Hl7Exporter quick = exporter(MessageType.OMI_O23, Priority.URGENT, Duration.ofMillis(500))) {
            ris.answer(new TestRis.Answer.Silent(Duration.ofSeconds(5)));
            Attempt a = quick.attempt(delivery(48, Priority.STAT, source("ACC0042")));
            assertThat(a).isInstanceOf(Attempt.Retry.class);
            assertThat(((Attempt.Retry) a).error()).isEqualTo("TRIAGE-0801 no acknowledgement from 127.0.0.1:"
                    + ris.port() + " within 500ms");
            assertThat(ris.received()).hasSize(1);

            // The RIS answers again: the next attempt goes through on a new connection.
            ris.answer(TestRis.ACCEPT);
            assertThat(quick.attempt(delivery(48, Priority.STAT, source("ACC0042"))))
                    .isInstanceOf(Attempt.Delivered.class);
        }
    }

    @Test
    void aRisThatIsDownIsRetriedAndWhenBackGetsTheMessageOnce() throws Exception {
        ris.stopListening();
        Attempt refused = exporter.attempt(delivery(49, Priority.ASAP, source("ACC0042")));
        assertThat(refused).isInstanceOf(Attempt.Retry.class);
        assertThat(((Attempt.Retry) refused).error())
                .isEqualTo("TRIAGE-0801 cannot connect to 127.0.0.1:" + ris.port() + ": connection refused");
        assertThat(((Attempt.Retry) refused).after()).as("the lane's back-off decides").isNull();

        ris.resumeListening();
        assertThat(exporter.attempt(delivery(49, Priority.ASAP, source("ACC0042"))))
                .isInstanceOf(Attempt.Delivered.class);
        assertThat(ris.received()).hasSize(1);
    }

    @Test
    void aConnectionTheRisClosedMeanwhileIsReopened() throws Exception {
        assertThat(exporter.attempt(delivery(50, Priority.STAT, source("ACC0042")))).isInstanceOf(Attempt.Delivered.class);
        // The RIS restarts between two messages: the kept connection is dead.
        ris.stopListening();
        ris.resumeListening();
        assertThat(exporter.attempt(delivery(51, Priority.STAT, source("ACC0043")))).isInstanceOf(Attempt.Delivered.class);
        assertThat(ris.received()).hasSize(2);
    }

    @Test
    void anAnswerThatIsNotAnAcknowledgementIsRetried() throws Exception {
        ris.answer(new TestRis.Answer.Garbage("HTTP/1.1 400 Bad Request"));
        Attempt a = exporter.attempt(delivery(52, Priority.STAT, source("ACC0042")));
        assertThat(a).isInstanceOf(Attempt.Retry.class);
        assertThat(((Attempt.Retry) a).error()).startsWith("TRIAGE-0801 ").contains("not a readable acknowledgement");
    }

    @Test
    void anAcknowledgementOfAnotherMessageIsRetried() throws Exception {
        ris.answer(new TestRis.Answer.Garbage("MSH|^~\\&|RIS|HOSP|CTTRIAGE||20260314092700||ACK^O01^ACK|A1|P|2.5.1\r"
                + "MSA|AA|SOMEONE-ELSES-ID\r"));
        Attempt a = exporter.attempt(delivery(53, Priority.STAT, source("ACC0042")));
        assertThat(a).isInstanceOf(Attempt.Retry.class);
        assertThat(((Attempt.Retry) a).error()).contains("acknowledged another message");
    }

    @Test
    void aStudyWithoutAnAccessionNumberIsRejectedUnsent() throws Exception {
        Attempt a = exporter.attempt(delivery(54, Priority.STAT, source("")));
        assertThat(a).isEqualTo(new Attempt.Rejected("TRIAGE-0803 no accession number: the RIS order cannot be found"));
        Map<String, String> noPatient = source("ACC0042");
        noPatient.put("PatientID", "");
        assertThat(exporter.attempt(delivery(55, Priority.STAT, noPatient))).isInstanceOf(Attempt.Rejected.class);
        assertThat(ris.received()).isEmpty();
    }

    @Test
    void aResultBelowTheMinimumPrioritySendsNothing() throws Exception {
        Attempt a = exporter.attempt(delivery(56, Priority.ROUTINE, source("ACC0042")));
        assertThat(a).isEqualTo(new Attempt.Delivered(
                "not sent: priority routine is below hl7.min-priority urgent; the order keeps its own"));
        assertThat(ris.received()).isEmpty();
    }

    @Test
    void theStudysPriorityUnderThePolicyIsSentNotTheResultsOwn() throws Exception {
        // A later result with fewer findings: the study stays stat, and so does its order.
        try (Hl7Exporter policy = new Hl7Exporter(new Hl7Options(ris.host(), ris.port(),
                OrderMessageOptions.defaults(MessageType.OMI_O23), Priority.URGENT, Duration.ofSeconds(2),
                Duration.ofSeconds(2), new RetryPolicy(3, Duration.ofSeconds(1), 2, Duration.ofSeconds(5))), CLOCK,
                study -> java.util.Optional.of(study.equals(STUDY) ? Priority.STAT : Priority.ROUTINE))) {
            assertThat(policy.attempt(delivery(59, Priority.URGENT, source("ACC0042"))))
                    .isInstanceOf(Attempt.Delivered.class);
            assertThat(TestRis.segments(ris.received().get(0))).anySatisfy(s -> assertThat(s)
                    .startsWith("TQ1|1||||||||S^Stat^HL70485"));
        }
        // A reader lowered the study to routine: nothing goes to the RIS.
        try (Hl7Exporter lowered = new Hl7Exporter(new Hl7Options(ris.host(), ris.port(),
                OrderMessageOptions.defaults(MessageType.ORM_O01), Priority.URGENT, Duration.ofSeconds(2),
                Duration.ofSeconds(2), new RetryPolicy(3, Duration.ofSeconds(1), 2, Duration.ofSeconds(5))), CLOCK,
                study -> java.util.Optional.of(Priority.ROUTINE))) {
            assertThat(lowered.attempt(delivery(60, Priority.STAT, source("ACC0042"))))
                    .isInstanceOf(Attempt.Delivered.class);
        }
        assertThat(ris.received()).hasSize(1);
    }

    @Test
    void everyAttemptOfOneDeliveryCarriesTheSameControlId() throws Exception {
        ris.answer(new TestRis.Answer.Ack(AcknowledgmentCode.CE, ErrorCode.APPLICATION_INTERNAL_ERROR, "busy"));
        exporter.attempt(delivery(57, Priority.STAT, source("ACC0042")));
        ris.answer(TestRis.ACCEPT);
        exporter.attempt(delivery(57, Priority.STAT, source("ACC0042")));
        exporter.attempt(delivery(58, Priority.STAT, source("ACC0042")));
        List<String> controlIds = ris.received().stream().map(m -> m.split("\r")[0].split("\\|")[9]).toList();
        assertThat(controlIds).hasSize(3);
        assertThat(controlIds.get(0)).hasSize(20).isEqualTo(controlIds.get(1)).isNotEqualTo(controlIds.get(2));
    }
}
