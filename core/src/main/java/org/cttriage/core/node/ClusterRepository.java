package org.cttriage.core.node;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The multi-node mode's tables: {@code node_cluster} (the cluster's id, also written to the shared data folder)
 * and {@code node_triage_queue} (which input of each study the leader queued for triage, and when).
 */
public final class ClusterRepository {
    private ClusterRepository() {
    }

    /** The cluster's id, when a node of it has started. */
    public static Optional<String> clusterId(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT cluster_id FROM node_cluster");
             ResultSet r = s.executeQuery()) {
            return r.next() ? Optional.of(r.getString(1)) : Optional.empty();
        }
    }

    /** Records the cluster's id (fails on a second one: the primary key is the id, and there is one row). */
    public static void recordClusterId(Connection c, String id, Instant now) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO node_cluster (cluster_id, created) VALUES (?, ?)")) {
            s.setString(1, id);
            s.setTimestamp(2, Timestamp.from(now));
            s.executeUpdate();
        }
    }

    /**
     * Notes that {@code study}, complete with its last instance at {@code lastReceived}, is queued for triage now,
     * unless it was queued for that same input less than {@code requeueAfter} ago.
     *
     * @return whether it is to be queued
     */
    public static boolean queueForTriage(Connection c, String study, Instant lastReceived, Instant now,
            Duration requeueAfter) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT queued_for, queued_at FROM node_triage_queue WHERE study_uid = ? FOR UPDATE")) {
            s.setString(1, study);
            try (ResultSet r = s.executeQuery()) {
                if (r.next()) {
                    boolean sameInput = !r.getTimestamp(1).toInstant().isBefore(lastReceived);
                    boolean recent = r.getTimestamp(2).toInstant().isAfter(now.minus(requeueAfter));
                    if (sameInput && recent) {
                        return false;
                    }
                    try (PreparedStatement u = c.prepareStatement(
                            "UPDATE node_triage_queue SET queued_for = ?, queued_at = ? WHERE study_uid = ?")) {
                        u.setTimestamp(1, Timestamp.from(lastReceived));
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
            i.setTimestamp(2, Timestamp.from(lastReceived));
            i.setTimestamp(3, Timestamp.from(now));
            i.executeUpdate();
        }
        return true;
    }
}
