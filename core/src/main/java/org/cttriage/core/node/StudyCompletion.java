package org.cttriage.core.node;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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

    private static final String QUIET = "SELECT s.study_uid, MAX(s.last_received) FROM node_series s WHERE s.study_uid IN"
            + " (SELECT study_uid FROM node_series WHERE state = ?) GROUP BY s.study_uid HAVING MAX(s.last_received) <= ?";

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
            List<Object[]> quiet = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(QUIET)) {
                s.setString(1, SeriesState.RECEIVING.name());
                s.setTimestamp(2, Timestamp.from(now.minus(quietPeriod)));
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        quiet.add(new Object[] {r.getString(1), r.getTimestamp(2)});
                    }
                }
            }
            for (Object[] q : quiet) {
                String study = (String) q[0];
                Timestamp lastReceived = (Timestamp) q[1];
                if (queue(c, study, lastReceived, now)) {
                    Outbox.add(c, TRIAGE_QUEUE, study, now);
                    queued.add(study);
                }
            }
            return queued;
        });
    }

    /** Records the queueing unless the study was queued for this last_received recently. */
    private boolean queue(Connection c, String study, Timestamp lastReceived, Instant now) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT queued_for, queued_at FROM node_triage_queue WHERE study_uid = ? FOR UPDATE")) {
            s.setString(1, study);
            try (ResultSet r = s.executeQuery()) {
                if (r.next()) {
                    boolean sameInput = !r.getTimestamp(1).before(lastReceived);
                    boolean recent = r.getTimestamp(2).toInstant().isAfter(now.minus(requeueAfter));
                    if (sameInput && recent) {
                        return false;
                    }
                    try (PreparedStatement u = c.prepareStatement(
                            "UPDATE node_triage_queue SET queued_for = ?, queued_at = ? WHERE study_uid = ?")) {
                        u.setTimestamp(1, lastReceived);
                        u.setTimestamp(2, Timestamp.from(now));
                        u.setString(3, study);
                        u.executeUpdate();
                    }
                    return true;
                }
            }
        }
        try (PreparedStatement i = c.prepareStatement(
                "INSERT INTO node_triage_queue (study_uid, queued_for, queued_at) VALUES (?, ?, ?)")) {
            i.setString(1, study);
            i.setTimestamp(2, lastReceived);
            i.setTimestamp(3, Timestamp.from(now));
            i.executeUpdate();
        }
        return true;
    }
}
