package org.cttriage.plugin.node;

import java.io.IOException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.cttriage.core.audit.AssociationAuditor;
import org.cttriage.core.audit.AuditEvents;
import org.cttriage.core.audit.AuditMessage;
import org.cttriage.core.audit.AuditTrail;
import org.cttriage.core.audit.DeliveryAuditor;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;

/**
 * The audit trail of one ct-triage process, from the {@code audit.*} settings: the trail itself
 * (disabled when neither a collector nor a file is configured), and, for the node, the observers
 * that turn its association and delivery events into audit messages.
 */
public final class NodeAudit implements AutoCloseable {
    private final AuditTrail trail;
    private final Clock clock;

    private NodeAudit(AuditTrail trail, Clock clock) {
        this.trail = trail;
        this.clock = clock;
    }

    /**
     * Opens the trail for a process named {@code processName} (e.g. {@code ct-triage serve}).
     *
     * @throws TriageException TRIAGE-0612 when an {@code audit.*} value is invalid or the spool or file cannot be opened
     */
    public static NodeAudit open(NodeSettings settings, String processName, Clock clock) throws TriageException {
        NodeSettings.Audit audit = settings.audit();
        AuditEvents events = new AuditEvents(AuditEvents.Reporter.local(audit.sourceId(), audit.enterpriseSiteId(),
                settings.get(NodeSettings.Key.AE_TITLE), processName), clock);
        if (!audit.options().enabled()) {
            return new NodeAudit(AuditTrail.disabled(events), clock);
        }
        try {
            return new NodeAudit(AuditTrail.start(audit.options(), events, clock), clock);
        } catch (IOException e) {
            throw new TriageException(ErrorCode.CONFIGURATION_INVALID, "the audit trail cannot be opened ("
                    + audit.options().spoolDirectory() + (audit.options().file().isPresent() ? ", "
                    + audit.options().file().get() : "") + "): " + e.getMessage(), e);
        }
    }

    public AuditTrail trail() {
        return trail;
    }

    public AuditEvents events() {
        return trail.events();
    }

    public boolean enabled() {
        return trail.enabled();
    }

    /** Records {@code message} (nothing when the trail is off). */
    public void record(AuditMessage message) {
        trail.record(message);
    }

    /**
     * The node's observers that feed the trail (none when it is off): the listener's associations, and
     * the deliveries to {@code config}'s destinations ({@code fhirUrl} names the FHIR server, {@code risUri}
     * the RIS: {@code mllp://host:port}).
     */
    public TriageNode.Observers observers(TriageNode.Config config, Optional<String> fhirUrl, Optional<String> risUri) {
        return observers(config, fhirUrl, risUri, Optional.empty());
    }

    /** As {@link #observers(TriageNode.Config, Optional, Optional)}, {@code upsUrl} naming the UPS-RS server. */
    public TriageNode.Observers observers(TriageNode.Config config, Optional<String> fhirUrl, Optional<String> risUri,
            Optional<String> upsUrl) {
        if (!trail.enabled()) {
            return TriageNode.Observers.none();
        }
        Map<String, DeliveryAuditor.Target> targets = new LinkedHashMap<>();
        for (Destination d : config.destinations()) {
            if (d.isHl7()) {
                targets.put(d.name(), new DeliveryAuditor.OrderTarget(risUri.orElse(d.name())));
            } else if (d.isUps()) {
                targets.put(d.name(), new DeliveryAuditor.UriTarget(upsUrl.orElse(d.name())));
            } else if (d.isFhirServiceRequest()) {
                // It changes the order itself, as the HL7 message does: an Order Record, not an Export.
                targets.put(d.name(), new DeliveryAuditor.OrderTarget(fhirUrl.orElse(d.name())));
            } else if (d.isFhir() || d.isFhirTask()) {
                targets.put(d.name(), new DeliveryAuditor.UriTarget(fhirUrl.orElse(d.name())));
            } else {
                targets.put(d.name(), new DeliveryAuditor.DicomTarget(new AuditEvents.Peer(d.dicom().aeTitle(),
                        d.dicom().host()), d.tls().isPresent()));
            }
        }
        return new TriageNode.Observers(List.of(new DeliveryAuditor(trail, targets)),
                List.of(new AssociationAuditor(trail, config.tls().isPresent(), clock)), List.of());
    }

    /** Closes the trail: what was recorded is written, and the collector gets a few seconds for the spool. */
    @Override
    public void close() {
        trail.close();
    }
}
