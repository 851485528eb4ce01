package org.cttriage.core.node;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.cttriage.core.error.TriageException;

/**
 * The multi-node mode's study-complete detection, a leader's duty: a study with a series still
 * receiving whose quiet period has passed in the database (no instance of any of its series for
 * {@code quietPeriod}, whichever receiver took them) is written to the outbox for the triage
 * queue, with a note of the last_received it was complete for. It is queued again when an instance
 * arrives later (a new last_received), or when it is still receiving {@code requeueAfter} after it
 * was queued (its message or its worker was lost without a result: triage is idempotent, so a
 * second message for the same input costs one look at the database).
 */
public final class StudyCompletion {
    /** The broker queue of complete studies; its messages' body is the Study Instance UID. */
    public static final String TRIAGE_QUEUE = "ct-triage.triage";
    /** The broker queue of a result's deliveries, written with the result; its messages' body is the delivery's id. */
    public static final String DELIVERY_QUEUE = "ct-triage.delivery";

    private final NodeDatabase database;
    private final Duration quietPeriod;
    private final Duration requeueAfter;
    private final Clock clock;

    public StudyCompletion(NodeDatabase database, Duration quietPeriod, Duration requeueAfter, Clock clock) {
        this.database = database;
        this.quietPeriod = quietPeriod;
        this.requeueAfter = requeueAfter;
        this.clock = clock;
    }

    /**
     * Queues every study that is complete now and not yet queued for its current last_received.
     *
     * @return the studies queued
     */
    public List<String> sweep() throws TriageException {
        Instant now = clock.instant();
        return database.transaction(c -> {
            List<String> queued = new ArrayList<>();
            for (Map.Entry<String, Instant> q : SeriesRepository.quietStudies(c, now.minus(quietPeriod)).entrySet()) {
                if (ClusterRepository.queueForTriage(c, q.getKey(), q.getValue(), now, requeueAfter)) {
                    Outbox.add(c, TRIAGE_QUEUE, q.getKey(), now);
                    queued.add(q.getKey());
                }
            }
            return queued;
        });
    }
}
