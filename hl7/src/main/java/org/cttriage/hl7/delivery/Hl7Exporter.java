package org.cttriage.hl7.delivery;

import ca.uhn.hl7v2.HL7Exception;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import org.cttriage.core.dicom.sr.SourceStudy;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.Exporter;
import org.cttriage.core.node.RetryPolicy;
import org.cttriage.hl7.mapping.OrderMessageMapper;
import org.cttriage.hl7.mapping.OrderReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delivery model's exporter for the RIS: a stored result's suggested priority as an HL7 v2.5.1 order change
 * (ORM^O01 or OMI^O23, ORC-1 = XO) for the study's order, found by its accession number and order numbers
 * ({@link OrderMessageMapper}), sent once over MLLP; the acknowledgement decides the outcome:
 * <ul>
 *   <li>AA (application accept), CA (commit accept: the RIS stored it and answers for it): {@code Delivered};</li>
 *   <li>AE (application error), AR (application reject), CR (commit reject): {@code Rejected} with the ERR's
 *       codes and location, unless ERR-3 is 206 or 207 (record locked, internal error), which the standard's
 *       table makes transient: {@code Retry};</li>
 *   <li>CE (commit error), no answer within {@code hl7.ack-timeout}, connection refused, an unreadable answer or
 *       one acknowledging another message: {@code Retry}.</li>
 * </ul>
 * A study without an accession number (or patient ID) is {@code Rejected} unsent (TRIAGE-0803): nothing finds its
 * order. The priority sent is the study's as the worklist's policy holds it when the attempt is made (given by the
 * caller), else the result's own. Below {@code hl7.min-priority} nothing is sent and the delivery is done: an order
 * change carrying "routine" could lower the priority a clinician gave the order, and the node never lowers a
 * priority.
 *
 * <p>Logs carry the delivery id, the control ID and coded answers only; the message and the RIS's free text (which
 * may quote patient identifiers) go to debug level at most.
 */
public final class Hl7Exporter implements Exporter, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Hl7Exporter.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, String>> ATTRIBUTES = new TypeReference<>() {
    };

    /** The study's priority as the node's priority policy holds it. */
    @FunctionalInterface
    public interface StudyPriority {
        /** By Study Instance UID; empty where the study has none. A failure fails the attempt (it is retried). */
        Optional<Priority> of(String studyInstanceUid) throws Exception;
    }

    private final Hl7Options options;
    private final OrderMessageMapper mapper;
    private final MllpClient client;
    private final Clock clock;
    private final StudyPriority studyPriority;

    /** An exporter that sends each result's own suggested priority. */
    public Hl7Exporter(Hl7Options options, Clock clock) {
        this(options, clock, study -> Optional.empty());
    }

    /**
     * @param studyPriority the study's priority as the worklist's policy holds it at the time of the attempt (raised
     *     by results, never lowered by one; lowered only by a person's review), by Study Instance UID; empty where
     *     the study has none, and the result's own priority is sent
     */
    public Hl7Exporter(Hl7Options options, Clock clock, StudyPriority studyPriority) {
        this.options = options;
        this.mapper = new OrderMessageMapper(options.message());
        this.client = new MllpClient(options.host(), options.port(), options.connectTimeout(), options.ackTimeout());
        this.clock = clock;
        this.studyPriority = studyPriority;
    }

    /** The retries and dead letters of the RIS ({@code hl7.max-attempts} and the back-off keys). */
    public RetryPolicy retryPolicy() {
        return options.retry();
    }

    @Override
    public String kind() {
        return "hl7";
    }

    @Override
    public Attempt attempt(DeliveryLedger.Delivery d) throws Exception {
        // The study's, not the result's: a superseding result with fewer findings must not lower the order.
        Priority priority = studyPriority.of(d.series().studyInstanceUid()).orElse(priority(d));
        if (priority.compareTo(options.minPriority()) < 0) {
            return new Attempt.Delivered("not sent: priority " + priority.fhirCode() + " is below hl7.min-priority "
                    + options.minPriority().fhirCode() + "; the order keeps its own");
        }
        // Recorded with the result at triage time; only results recorded before that read the SR back (and lack the
        // order numbers, which the SR does not carry).
        Map<String, String> source = d.sourceJson() != null ? JSON.readValue(d.sourceJson(), ATTRIBUTES)
                : SourceStudy.ofSr(d.srFile()).attributes();
        OrderReference order = OrderReference.of(source);
        if (order.accessionNumber().isEmpty()) {
            return new Attempt.Rejected(ErrorCode.HL7_NO_ORDER.code()
                    + " no accession number: the RIS order cannot be found");
        }
        if (order.patientId().isEmpty()) {
            return new Attempt.Rejected(ErrorCode.HL7_NO_ORDER.code()
                    + " no patient ID: PID-3 cannot be filled, the RIS cannot match the order's patient");
        }
        String controlId = controlId(d);
        OrderMessageMapper.Encoded message;
        try {
            message = mapper.encode(order, priority, controlId, OffsetDateTime.now(clock));
        } catch (HL7Exception | IllegalArgumentException e) {
            // HAPI's messages may quote the value it refused: debug only.
            LOG.debug("delivery {}: the order message could not be built: {}", d.id(), e.getMessage());
            return new Attempt.Rejected(ErrorCode.HL7_MESSAGE_INVALID.code() + " the "
                    + options.message().type().structure() + " message could not be built (details at debug level)");
        }
        MllpClient.Answer answer = client.send(message.bytes(), message.charset());
        return outcome(d.id(), controlId, priority, answer);
    }

    /** The priority the result suggests. */
    static Priority priority(DeliveryLedger.Delivery d) throws Exception {
        return JSON.readValue(d.resultJson(), TriageResult.class).suggestedPriority();
    }

    /**
     * MSH-10 of a delivery's message: the same for every attempt of one delivery (a RIS that detects duplicates by
     * control ID sees a resend as one message), different for every other; 20 hex digits of a SHA-256 (MSH-10 is at
     * most 20 characters in v2.5.1).
     */
    static String controlId(DeliveryLedger.Delivery d) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest((d.series().studyInstanceUid() + "/"
                    + d.id()).getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(hash).substring(0, 20).toUpperCase(java.util.Locale.ROOT);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private Attempt outcome(long id, String controlId, Priority priority, MllpClient.Answer answer) {
        String unavailable = ErrorCode.HL7_RIS_UNAVAILABLE.code() + " ";
        if (answer instanceof MllpClient.Answer.NoAnswer none) {
            return new Attempt.Retry(unavailable + none.why(), null);
        }
        MllpClient.Answer.Acknowledged ack = (MllpClient.Answer.Acknowledged) answer;
        Optional<Acknowledgement> read = Acknowledgement.read(ack.text());
        String code = read.map(Acknowledgement::code).orElse(ack.type());
        if (code.isEmpty()) {
            return new Attempt.Retry(unavailable + "the RIS's answer is not a readable acknowledgement (no MSA)", null);
        }
        if (read.isPresent()) {
            Acknowledgement a = read.get();
            if (!a.freeText().isEmpty()) {
                LOG.debug("delivery {}: the RIS's text with {}: {}", id, a.code(), a.freeText());
            }
            if (!a.controlId().isEmpty() && !a.controlId().equals(controlId)) {
                return new Attempt.Retry(unavailable + "the RIS acknowledged another message (MSA-2 is not our"
                        + " MSH-10 " + controlId + ")", null);
            }
        }
        String detail = read.map(Acknowledgement::codedDetail).orElse("acknowledgement not readable beyond MSA-1");
        boolean transientError = read.map(Acknowledgement::transientError).orElse(false);
        String sent = "priority " + options.message().code(priority) + " (" + priority.fhirCode() + "), MSH-10 "
                + controlId;
        return switch (code) {
            case "AA" -> new Attempt.Delivered("RIS accepted (AA) " + sent);
            case "CA" -> new Attempt.Delivered("RIS committed (CA) " + sent);
            case "AE", "AR" -> transientError
                    ? new Attempt.Retry(unavailable + "RIS answered " + code + " (" + name(code) + "), transient: "
                            + detail, null)
                    : new Attempt.Rejected(ErrorCode.HL7_REJECTED.code() + " RIS answered " + code + " ("
                            + name(code) + "): " + detail);
            case "CR" -> new Attempt.Rejected(ErrorCode.HL7_REJECTED.code() + " RIS answered CR (commit reject): "
                    + detail);
            case "CE" -> new Attempt.Retry(unavailable + "RIS answered CE (commit error): " + detail, null);
            default -> new Attempt.Retry(unavailable + "RIS answered an unknown acknowledgement code", null);
        };
    }

    private static String name(String code) {
        return code.equals("AE") ? "application error" : "application reject";
    }

    /** Closes the connection to the RIS. */
    @Override
    public void close() {
        client.close();
    }
}
