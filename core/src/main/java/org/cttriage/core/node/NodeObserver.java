package org.cttriage.core.node;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.cttriage.core.domain.Priority;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Observer of what the node does after reception (metrics, the audit trail, tests): a study's result
 * recorded, one delivery attempt ended. Called on the node's own threads after the database has recorded
 * the event; an observer must return quickly and never block. Exceptions thrown by an observer are
 * contained ({@link Observers}) and never affect triage or delivery. Reception's events are the DICOM
 * listener's ({@link org.cttriage.core.dicom.net.AssociationListener}).
 */
public interface NodeObserver {
    /**
     * A result was recorded and its SR written.
     *
     * @param series the series triaged (the study's chosen one)
     * @param resultId the result's id in the node's database
     * @param srSopInstanceUid the SR's SOP Instance UID
     * @param priority the suggested priority
     * @param inference the engine's time for this series (preprocessing, encoders, scoring)
     * @param latency from the study's last instance recorded to the SR written (the quiet period included)
     * @param source the source study's attributes recorded with the result
     *     ({@link SeriesTriage#EXPORTED_SOURCE_ATTRIBUTES}) and the patient's name and birth date
     *     ({@link SeriesTriage#OBSERVED_PATIENT_ATTRIBUTES}): patient data, never for the operational log by default
     * @param instances the instances the result was made from
     */
    record Triaged(SeriesKey series, long resultId, String srSopInstanceUid, Priority priority, Duration inference,
            Duration latency, Map<String, String> source, int instances) {
    }

    /**
     * One delivery attempt ended and the ledger recorded its outcome.
     *
     * @param delivery the delivery as it was before the attempt
     * @param kind the exporter's kind ({@link Exporter#kind()})
     * @param attempt what the destination answered
     * @param state the delivery's state after it (PENDING: a retry is scheduled; DEAD: a dead letter)
     * @param took how long the attempt took
     */
    record DeliveryAttempted(DeliveryLedger.Delivery delivery, String kind, Exporter.Attempt attempt,
            DeliveryState state, Duration took) {
    }

    /** A study's result was recorded and its SR written. */
    default void triaged(Triaged event) {
    }

    /** One delivery attempt ended. */
    default void deliveryAttempted(DeliveryAttempted event) {
    }

    /** An observer that observes nothing. */
    NodeObserver NONE = new NodeObserver() {
    };

    /** Several observers as one; added while the node runs, each one's exceptions contained and logged. */
    final class Observers implements NodeObserver {
        private static final Logger LOG = LoggerFactory.getLogger(Observers.class);
        private final List<NodeObserver> observers = new CopyOnWriteArrayList<>();

        public Observers(List<NodeObserver> initial) {
            observers.addAll(initial);
        }

        public void add(NodeObserver observer) {
            observers.add(observer);
        }

        @Override
        public void triaged(Triaged event) {
            for (NodeObserver o : observers) {
                try {
                    o.triaged(event);
                } catch (RuntimeException e) {
                    LOG.warn("node observer {} failed on a triage event: {}", o.getClass().getSimpleName(), e.toString());
                }
            }
        }

        @Override
        public void deliveryAttempted(DeliveryAttempted event) {
            for (NodeObserver o : observers) {
                try {
                    o.deliveryAttempted(event);
                } catch (RuntimeException e) {
                    LOG.warn("node observer {} failed on a delivery event: {}", o.getClass().getSimpleName(),
                            e.toString());
                }
            }
        }
    }
}
