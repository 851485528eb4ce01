package org.cttriage.plugin.cli;

import java.time.Clock;
import javax.sql.DataSource;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.DeliveryScheduler;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.core.node.WorklistRepository;
import org.cttriage.hl7.delivery.Hl7Exporter;
import org.cttriage.hl7.delivery.Hl7Options;
import org.cttriage.plugin.node.Destination;
import org.cttriage.plugin.node.NodeSettings;

/** Builds the node's HL7 delivery lane (exporter and retry policy) from the {@code hl7.*} keys of the configuration. */
final class Hl7Wiring {
    private Hl7Wiring() {
    }

    /** The validated options, as {@code serve} and {@code config check} read them. */
    static Hl7Options options(NodeSettings settings) throws TriageException {
        try {
            return Hl7Options.fromConfig(settings.hl7Lookup());
        } catch (IllegalArgumentException e) {
            throw new TriageException(ErrorCode.CONFIGURATION_INVALID, e.getMessage(), e);
        }
    }

    /**
     * The lane; its exporter holds the connection to the RIS, which the caller closes after the node. It sends the
     * study's priority as the worklist holds it in {@code dataSource} (the policy: raised by results, lowered only by
     * a person), so that a superseding result never lowers the order.
     */
    static DeliveryScheduler.Lane lane(NodeSettings settings, DataSource dataSource) throws TriageException {
        WorklistRepository worklist = new WorklistRepository(new NodeDatabase(dataSource));
        // A database failure fails the attempt, which is retried: never a priority the policy has not confirmed.
        Hl7Exporter exporter = new Hl7Exporter(options(settings), Clock.systemUTC(),
                study -> worklist.find(study).map(WorklistRepository.Entry::priority));
        return new DeliveryScheduler.Lane(Destination.HL7, exporter, exporter.retryPolicy());
    }
}
