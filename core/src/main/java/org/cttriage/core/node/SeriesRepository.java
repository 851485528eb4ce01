package org.cttriage.core.node;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.cttriage.core.error.TriageException;

/**
 * Every statement on {@code node_series}: one row per series received, with its state
 * ({@link SeriesState}), the reason for it, its instance counter and when it was first and last
 * received. Two queries here read other tables too because they are about series: which
 * finished series spool retention may empty (their instances and their results' deliveries), and
 * the per-study summary with its current result's priority.
 *
 * <p>Methods without a connection run in a transaction of their own. Static methods that take a
 * {@link Connection} run inside the caller's transaction, because the caller's correctness
 * depends on what else that transaction holds; those that take {@link NodeDatabase.Statements}
 * are the ingest's, which keeps its statements prepared across group commits.
 */
public final class SeriesRepository {
    /**
     * One study as the node knows it, for operators.
     *
     * @param studyInstanceUid the study
     * @param series how many series of it were received
     * @param triaged how many of them are {@link SeriesState#TRIAGED}
     * @param notTriaged how many are {@link SeriesState#NOT_TRIAGED}
     * @param receiving how many are {@link SeriesState#RECEIVING}
     * @param lastReceived when its last instance was recorded
     * @param priority the priority of its current result, or null
     */
    public record StudySummary(String studyInstanceUid, int series, int triaged, int notTriaged, int receiving,
            Instant lastReceived, String priority) {
    }

    /**
     * One series of a study, for operators.
     *
     * @param seriesInstanceUid the series
     * @param instances its instance counter
     * @param state its {@link SeriesState}, by name
     * @param reason why (the selection's verdict, the failure), or null
     * @param lastReceived when its last instance was recorded
     */
    public record SeriesSummary(String seriesInstanceUid, int instances, String state, String reason,
            Instant lastReceived) {
    }

    // A counter, not COUNT(*): this runs before every C-STORE answer.
    private static final String RECEIVED = "UPDATE node_series SET state = ?, last_received = ?,"
            + " instances = instances + ?, reason = NULL WHERE study_uid = ? AND series_uid = ?";
    private static final String INSERT = "INSERT INTO node_series (study_uid, series_uid, state, instances,"
            + " first_received, last_received) VALUES (?, ?, ?, ?, ?, ?)";
    private static final String STATE = "SELECT state FROM node_series WHERE study_uid = ? AND series_uid = ?";
    private static final String MARK = "UPDATE node_series SET state = ?, reason = ? WHERE study_uid = ? "
            + "AND series_uid = ?";
    private static final String OF_STUDY = "SELECT series_uid FROM node_series WHERE study_uid = ?";
    private static final String OF_STUDY_IN_STATE = "SELECT series_uid FROM node_series WHERE study_uid = ?"
            + " AND state = ?";
    private static final String IN_STATE = "SELECT study_uid, series_uid FROM node_series WHERE state = ? "
            + "ORDER BY last_received";
    private static final String LAST_RECEIVED = "SELECT last_received FROM node_series WHERE study_uid = ? "
            + "AND series_uid = ?";
    private static final String LAST_RECEIVED_OF_STUDY = "SELECT MAX(last_received) FROM node_series"
            + " WHERE study_uid = ?";
    private static final String STUDIES = "SELECT s.study_uid, COUNT(*),"
            + " SUM(CASE WHEN s.state = 'TRIAGED' THEN 1 ELSE 0 END),"
            + " SUM(CASE WHEN s.state = 'NOT_TRIAGED' THEN 1 ELSE 0 END),"
            + " SUM(CASE WHEN s.state = 'RECEIVING' THEN 1 ELSE 0 END), MAX(s.last_received),"
            + " (SELECT MAX(r.priority) FROM node_result r WHERE r.study_uid = s.study_uid"
            + " AND r.superseded_by IS NULL)"
            + " FROM node_series s GROUP BY s.study_uid ORDER BY MAX(s.last_received) DESC";
    private static final String SUMMARIES_OF_STUDY = "SELECT series_uid, instances, state, reason, last_received"
            + " FROM node_series WHERE study_uid = ? ORDER BY series_uid";
    /** Finished, quiet since the cut-off, files still spooled, and no delivery of its results still owed. */
    private static final String REMOVABLE_FROM_SPOOL = "SELECT s.study_uid, s.series_uid FROM node_series s"
            + " WHERE s.state IN ('" + SeriesState.TRIAGED.name() + "', '" + SeriesState.NOT_TRIAGED.name() + "')"
            + " AND s.last_received < ?"
            + " AND EXISTS (SELECT 1 FROM node_instance i WHERE i.study_uid = s.study_uid"
            + " AND i.series_uid = s.series_uid AND i.spooled)"
            + " AND NOT EXISTS (SELECT 1 FROM node_result r JOIN node_delivery d ON d.result_id = r.id"
            + " WHERE r.study_uid = s.study_uid AND r.series_uid = s.series_uid AND d.state NOT IN ('"
            + DeliveryState.DELIVERED.name() + "', '" + DeliveryState.SUPERSEDED.name() + "', '"
            + DeliveryState.DISCARDED.name() + "'))";
    private static final String IS_REMOVABLE_FROM_SPOOL = REMOVABLE_FROM_SPOOL
            + " AND s.study_uid = ? AND s.series_uid = ?";
    /** The reason column holds 1024 characters; a reason is cut at 1000. */
    private static final int MAX_REASON = 1000;

    private final NodeDatabase database;

    public SeriesRepository(NodeDatabase database) {
        this.database = database;
    }

    /**
     * Records that instances of {@code series} were received at {@code now}: RECEIVING again, its
     * reason cleared, its counter raised by {@code added}; a series not recorded yet is created
     * with {@code instancesIfNew} instead.
     */
    static void received(NodeDatabase.Statements c, SeriesKey series, int added, int instancesIfNew, Timestamp now)
            throws SQLException {
        PreparedStatement update = c.prepare(RECEIVED);
        update.setString(1, SeriesState.RECEIVING.name());
        update.setTimestamp(2, now);
        update.setInt(3, added);
        update.setString(4, series.studyInstanceUid());
        update.setString(5, series.seriesInstanceUid());
        if (update.executeUpdate() == 0) {
            PreparedStatement s = c.prepare(INSERT);
            s.setString(1, series.studyInstanceUid());
            s.setString(2, series.seriesInstanceUid());
            s.setString(3, SeriesState.RECEIVING.name());
            s.setInt(4, instancesIfNew);
            s.setTimestamp(5, now);
            s.setTimestamp(6, now);
            s.executeUpdate();
        }
    }

    /** True when {@code series} is recorded and still {@link SeriesState#RECEIVING}. */
    static boolean isReceiving(NodeDatabase.Statements c, SeriesKey series) throws SQLException {
        PreparedStatement s = c.prepare(STATE);
        s.setString(1, series.studyInstanceUid());
        s.setString(2, series.seriesInstanceUid());
        try (ResultSet r = s.executeQuery()) {
            return r.next() && SeriesState.RECEIVING.name().equals(r.getString(1));
        }
    }

    /** Sets the state of {@code series} and the reason for it (null: none), in its own transaction. */
    public void mark(SeriesKey series, SeriesState state, String reason) throws TriageException {
        database.transaction(c -> {
            mark(c, series, state, reason);
            return null;
        });
    }

    /** Sets the state of {@code series} and the reason for it (null: none), in the caller's transaction. */
    public static void mark(Connection c, SeriesKey series, SeriesState state, String reason) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(MARK)) {
            s.setString(1, state.name());
            s.setString(2, reason == null ? null : reason.substring(0, Math.min(reason.length(), MAX_REASON)));
            s.setString(3, series.studyInstanceUid());
            s.setString(4, series.seriesInstanceUid());
            s.executeUpdate();
        }
    }

    /** The Series Instance UIDs of the study's series, in no particular order. */
    /**
     * Studies with a series still receiving whose last instance (of any of their series) was recorded at or before
     * {@code cutoff}, with that time: the studies whose quiet period has passed.
     */
    public static java.util.Map<String, Instant> quietStudies(Connection c, Instant cutoff) throws SQLException {
        java.util.Map<String, Instant> out = new java.util.LinkedHashMap<>();
        try (PreparedStatement s = c.prepareStatement("SELECT s.study_uid, MAX(s.last_received) FROM node_series s"
                + " WHERE s.study_uid IN (SELECT study_uid FROM node_series WHERE state = ?) GROUP BY s.study_uid"
                + " HAVING MAX(s.last_received) <= ? ORDER BY MAX(s.last_received)")) {
            s.setString(1, SeriesState.RECEIVING.name());
            s.setTimestamp(2, java.sql.Timestamp.from(cutoff));
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.put(r.getString(1), r.getTimestamp(2).toInstant());
                }
            }
        }
        return out;
    }

    public static List<String> ofStudy(Connection c, String studyInstanceUid) throws SQLException {
        List<String> series = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(OF_STUDY)) {
            s.setString(1, studyInstanceUid);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    series.add(r.getString(1));
                }
            }
        }
        return series;
    }

    /** The Series Instance UIDs of the study's series in {@code state}, in no particular order. */
    public List<String> ofStudyInState(String studyInstanceUid, SeriesState state) throws TriageException {
        return database.transaction(c -> {
            List<String> series = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(OF_STUDY_IN_STATE)) {
                s.setString(1, studyInstanceUid);
                s.setString(2, state.name());
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        series.add(r.getString(1));
                    }
                }
            }
            return series;
        });
    }

    /** The series in {@code state}, least recently received first. */
    public List<SeriesKey> inState(SeriesState state) throws TriageException {
        return database.transaction(c -> {
            List<SeriesKey> keys = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(IN_STATE)) {
                s.setString(1, state.name());
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        keys.add(new SeriesKey(r.getString(1), r.getString(2)));
                    }
                }
            }
            return keys;
        });
    }

    /** When the series' last instance was recorded, or null for an unknown series. */
    public Instant lastReceived(SeriesKey series) throws TriageException {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement(LAST_RECEIVED)) {
                s.setString(1, series.studyInstanceUid());
                s.setString(2, series.seriesInstanceUid());
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? r.getTimestamp(1).toInstant() : null;
                }
            }
        });
    }

    /** When the study's last instance was recorded (its series' latest), or null for an unknown study. */
    public Instant lastReceivedOfStudy(String studyInstanceUid) throws TriageException {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement(LAST_RECEIVED_OF_STUDY)) {
                s.setString(1, studyInstanceUid);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() && r.getTimestamp(1) != null ? r.getTimestamp(1).toInstant() : null;
                }
            }
        });
    }

    /** When the study's first instance was recorded (its series' earliest), or null for an unknown study. */
    public Instant firstReceivedOfStudy(String studyInstanceUid) throws TriageException {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT MIN(first_received) FROM node_series WHERE study_uid = ?")) {
                s.setString(1, studyInstanceUid);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() && r.getTimestamp(1) != null ? r.getTimestamp(1).toInstant() : null;
                }
            }
        });
    }

    /** Every study, most recently received first. */
    public List<StudySummary> studies() throws TriageException {
        return database.transaction(c -> {
            List<StudySummary> out = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(STUDIES)) {
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        out.add(new StudySummary(r.getString(1), r.getInt(2), r.getInt(3), r.getInt(4), r.getInt(5),
                                r.getTimestamp(6).toInstant(), r.getString(7)));
                    }
                }
            }
            return out;
        });
    }

    /** The study's series, ordered by Series Instance UID; empty for an unknown study. */
    public static List<SeriesSummary> summariesOfStudy(Connection c, String studyInstanceUid) throws SQLException {
        List<SeriesSummary> series = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(SUMMARIES_OF_STUDY)) {
            s.setString(1, studyInstanceUid);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    series.add(new SeriesSummary(r.getString(1), r.getInt(2), r.getString(3), r.getString(4),
                            r.getTimestamp(5).toInstant()));
                }
            }
        }
        return series;
    }

    /**
     * The series whose spooled files retention may remove: triaged or not triaged, nothing received
     * since {@code cutoff}, files still in the spool, and every delivery of its results ended
     * (delivered, superseded or discarded).
     */
    public List<SeriesKey> removableFromSpool(Instant cutoff) throws TriageException {
        return database.transaction(c -> removable(c, REMOVABLE_FROM_SPOOL, cutoff, null));
    }

    /** As {@link #removableFromSpool}, for one series, in the caller's transaction. */
    public static boolean isRemovableFromSpool(Connection c, Instant cutoff, SeriesKey series) throws SQLException {
        return !removable(c, IS_REMOVABLE_FROM_SPOOL, cutoff, series).isEmpty();
    }

    private static List<SeriesKey> removable(Connection c, String sql, Instant cutoff, SeriesKey only)
            throws SQLException {
        List<SeriesKey> list = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setTimestamp(1, Timestamp.from(cutoff));
            if (only != null) {
                s.setString(2, only.studyInstanceUid());
                s.setString(3, only.seriesInstanceUid());
            }
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    list.add(new SeriesKey(r.getString(1), r.getString(2)));
                }
            }
        }
        return list;
    }

    /** How many series are in each state, every state listed (0 when none): for metrics. */
    public java.util.Map<SeriesState, Integer> countsByState() throws TriageException {
        return database.transaction(c -> {
            java.util.Map<SeriesState, Integer> counts = new java.util.EnumMap<>(SeriesState.class);
            for (SeriesState state : SeriesState.values()) {
                counts.put(state, 0);
            }
            try (PreparedStatement s = c.prepareStatement("SELECT state, COUNT(*) FROM node_series GROUP BY state");
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    counts.put(SeriesState.valueOf(r.getString(1)), r.getInt(2));
                }
            }
            return counts;
        });
    }
}
