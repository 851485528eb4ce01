package org.cttriage.core.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.cttriage.core.audit.AuditEvents.Patient;
import org.cttriage.core.audit.AuditEvents.Peer;
import org.cttriage.core.audit.AuditEvents.StudyInstances;
import org.cttriage.core.audit.AuditMessage.Detail;
import org.cttriage.core.audit.AuditMessage.Outcome;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.Exporter;
import org.cttriage.core.node.NodeObserver;

/**
 * The node's deliveries as audit messages, from its {@link NodeObserver} events: a result that
 * reached its destination, or that the node gave up on (a dead letter, outcome 8), is one message;
 * attempts that will be retried are not audited (their final outcome is).
 * <ul>
 * <li>the SR to a PACS: DICOM Instances Transferred (A.5.3.7) from us to the PACS, the study with one
 * Comprehensive 3D SR instance, and its patient;
 * <li>the FHIR transaction (the report, or the priority as a Task): Data Export (A.5.3.4) to the server's URL,
 * the study and its patient;
 * <li>the HL7 v2 order change to the RIS: Order Record, update (A.5.3.13), the patient with the order's accession.
 * </ul>
 * The patient's ID and issuer and the accession number come from the attributes recorded with the
 * result; the name, which the node does not record, from the triage event of the same run (the ID
 * stands in for it after a restart).
 */
public final class DeliveryAuditor implements NodeObserver {
    /** The SOP class of the node's SR (TID 1500 in a Comprehensive 3D SR, DESIGN.md). */
    static final String COMPREHENSIVE_3D_SR = "1.2.840.10008.5.1.4.1.1.88.34";
    private static final int NAMES_KEPT = 10_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where a destination is, as the audit names it. */
    public sealed interface Target permits DicomTarget, UriTarget, OrderTarget {
    }

    /**
     * The RIS, whose order an HL7 v2 message changes.
     *
     * @param uri where it is, {@code mllp://host:port}
     */
    public record OrderTarget(String uri) implements Target {
        public OrderTarget {
            Objects.requireNonNull(uri, "uri");
        }
    }

    /**
     * A DICOM destination.
     *
     * @param peer its AE title and host
     * @param tls whether the node speaks TLS to it
     */
    public record DicomTarget(Peer peer, boolean tls) implements Target {
        public DicomTarget {
            Objects.requireNonNull(peer, "peer");
        }
    }

    /**
     * A destination addressed by URI (the FHIR server).
     *
     * @param uri its base URL
     */
    public record UriTarget(String uri) implements Target {
        public UriTarget {
            Objects.requireNonNull(uri, "uri");
        }
    }

    private final AuditTrail trail;
    private final Map<String, Target> targets;
    private final Map<Long, String> names = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, String> eldest) {
            return size() > NAMES_KEPT;
        }
    };

    /**
     * @param trail where the messages go
     * @param targets each destination's configured name and where it is
     */
    public DeliveryAuditor(AuditTrail trail, Map<String, Target> targets) {
        this.trail = trail;
        this.targets = Map.copyOf(targets);
    }

    @Override
    public void triaged(Triaged event) {
        String name = event.source().getOrDefault("PatientName", "");
        synchronized (names) {
            names.put(event.resultId(), name == null ? "" : name);
        }
    }

    @Override
    public void deliveryAttempted(DeliveryAttempted event) {
        Outcome outcome;
        Optional<String> description;
        if (event.attempt() instanceof Exporter.Attempt.Delivered) {
            outcome = Outcome.SUCCESS;
            description = Optional.empty();
        } else if (event.state() == DeliveryState.DEAD) {
            outcome = Outcome.SERIOUS_FAILURE;
            description = Optional.of("given up after " + (event.delivery().attempts() + 1) + " attempt(s), now a dead"
                    + " letter: " + error(event.attempt()));
        } else {
            return;
        }
        DeliveryLedger.Delivery d = event.delivery();
        Target target = targets.get(d.destination());
        Map<String, String> source = sourceAttributes(d.sourceJson());
        String name;
        synchronized (names) {
            name = names.getOrDefault(d.resultId(), "");
        }
        Patient patient = new Patient(source.get("PatientID"), source.get("IssuerOfPatientID"), name);
        String study = d.series().studyInstanceUid();
        List<Detail> details = List.of(new Detail("Delivery", d.id() + " " + d.destination() + " (" + event.kind()
                + ", result " + d.resultId() + ")"));
        if (target instanceof DicomTarget dicom) {
            String accession = source.getOrDefault("AccessionNumber", "");
            trail.record(trail.events().instancesSent(dicom.peer(), new StudyInstances(study, patient,
                    accession == null ? List.of() : List.of(accession), Map.of(COMPREHENSIVE_3D_SR, 1)), dicom.tls(),
                    outcome, description));
        } else if (target instanceof OrderTarget ris) {
            String accession = source.getOrDefault("AccessionNumber", "");
            List<Detail> order = List.of(new Detail("Accession Number", accession == null ? "" : accession),
                    new Detail("Study Instance UID", study), details.get(0));
            trail.record(trail.events().orderUpdated(ris.uri(), patient, outcome, description, order));
        } else {
            String uri = target instanceof UriTarget u ? u.uri() : d.destination();
            trail.record(trail.events().exported(uri, study, patient, outcome, description, details));
        }
    }

    private static String error(Exporter.Attempt attempt) {
        if (attempt instanceof Exporter.Attempt.Rejected r) {
            return r.error();
        }
        if (attempt instanceof Exporter.Attempt.Retry r) {
            return r.error();
        }
        return attempt.toString();
    }

    /**
     * The source attributes recorded with a result ({@code DeliveryLedger.Delivery#sourceJson()}), by keyword;
     * empty for results recorded before them.
     */
    public static Map<String, String> sourceAttributes(String json) {
        Map<String, String> values = new LinkedHashMap<>();
        if (json == null || json.isBlank()) {
            return values;
        }
        try {
            JsonNode node = JSON.readTree(json);
            node.fields().forEachRemaining(e -> values.put(e.getKey(), e.getValue().isNull() ? "" : e.getValue().asText()));
        } catch (IOException e) {
            // an unreadable record names no patient; the message still names the study
        }
        return values;
    }
}
