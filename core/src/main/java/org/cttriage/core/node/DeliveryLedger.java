package org.cttriage.core.node;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.cttriage.core.error.TriageException;

/** The deliveries every result owes, their attempts, and the dead letters an operator can retry. */
public final class DeliveryLedger {
    /**
     * One delivery with what it needs to be attempted.
     *
     * @param id delivery id
     * @param resultId the result delivered
     * @param destination the destination's configured name
     * @param state current state
     * @param attempts attempts made so far
     * @param lastError the last failure, or null
     * @param series the result's series
     * @param srFile the SR to send
     * @param resultJson the TriageResult as JSON (for FHIR)
     * @param updated when the state last changed
     * @param sourceJson the source study's attributes the exporters need
     *     ({@link SeriesTriage#EXPORTED_SOURCE_ATTRIBUTES}, by keyword), or null for a result recorded
     *     before they were
     */
    public record Delivery(long id, long resultId, String destination, DeliveryState state, int attempts,
            String lastError, SeriesKey series, Path srFile, String resultJson, Instant updated, String sourceJson) {
    }

    private static final String SELECT = "SELECT d.id, d.result_id, d.destination, d.state, d.attempts, d.last_error, "
            + "r.study_uid, r.series_uid, r.sr_path, r.result_json, d.updated, r.source_json FROM node_delivery d "
            + "JOIN node_result r ON r.id = d.result_id ";

    private final NodeDatabase database;
    private final Clock clock;

    public DeliveryLedger(NodeDatabase database, Clock clock) {
        this.database = database;
        this.clock = clock;
    }

    /** One delivery, or null. */
    public Delivery find(long id) throws TriageException {
        List<Delivery> found = query(SELECT + "WHERE d.id = ?", id);
        return found.isEmpty() ? null : found.get(0);
    }

    /** Deliveries in {@code state}, oldest first. */
    public List<Delivery> inState(DeliveryState state) throws TriageException {
        return query(SELECT + "WHERE d.state = ? ORDER BY d.id", state.name());
    }

    /** Records one failed attempt; returns the attempts made so far. */
    public int attemptFailed(long id, String error) throws TriageException {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE node_delivery SET attempts = attempts + 1, "
                    + "last_error = ?, updated = ? WHERE id = ?")) {
                s.setString(1, truncate(error));
                s.setTimestamp(2, Timestamp.from(clock.instant()));
                s.setLong(3, id);
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("SELECT attempts FROM node_delivery WHERE id = ?")) {
                s.setLong(1, id);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? r.getInt(1) : 0;
                }
            }
        });
    }

    public void delivered(long id) throws TriageException {
        setState(id, DeliveryState.DELIVERED, null, false);
    }

    /** Moves the delivery to the dead letters. */
    public void dead(long id, String error) throws TriageException {
        setState(id, DeliveryState.DEAD, error, false);
    }

    /** Makes a dead letter pending again with a fresh attempt count; false when it was not dead. */
    public boolean retry(long id) throws TriageException {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE node_delivery SET state = ?, attempts = 0, updated = ? "
                    + "WHERE id = ? AND state = ?")) {
                s.setString(1, DeliveryState.PENDING.name());
                s.setTimestamp(2, Timestamp.from(clock.instant()));
                s.setLong(3, id);
                s.setString(4, DeliveryState.DEAD.name());
                return s.executeUpdate() == 1;
            }
        });
    }

    private void setState(long id, DeliveryState state, String error, boolean resetAttempts) throws TriageException {
        database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE node_delivery SET state = ?, last_error = COALESCE(?, "
                    + "last_error), updated = ? WHERE id = ?")) {
                s.setString(1, state.name());
                s.setString(2, truncate(error));
                s.setTimestamp(3, Timestamp.from(clock.instant()));
                s.setLong(4, id);
                s.executeUpdate();
            }
            return null;
        });
    }

    private List<Delivery> query(String sql, Object parameter) throws TriageException {
        return database.transaction(c -> {
            List<Delivery> list = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(sql)) {
                s.setObject(1, parameter);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        list.add(new Delivery(r.getLong(1), r.getLong(2), r.getString(3),
                                DeliveryState.valueOf(r.getString(4)), r.getInt(5), r.getString(6),
                                new SeriesKey(r.getString(7), r.getString(8)), Path.of(r.getString(9)), r.getString(10),
                                r.getTimestamp(11).toInstant(), r.getString(12)));
                    }
                }
            }
            return list;
        });
    }

    private static String truncate(String s) {
        return s == null ? null : s.substring(0, Math.min(s.length(), 1000));
    }
}
