package org.cttriage.core.node;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.cttriage.core.error.TriageException;

/**
 * The one ledger of deliveries, and the repository of table {@code node_delivery}: every statement
 * on it lives here. The queries that read a delivery with what the exporters need of its result
 * join {@code node_result}; they stay here because they are about deliveries (the result's own
 * statements are {@link ResultRepository}'s). One row per result × destination, and one state machine for every kind of destination:
 * {@code PENDING → DELIVERED | DEAD | SUPERSEDED}, {@code DEAD → PENDING} (an operator's retry) or
 * {@code DISCARDED}. A pending row carries its attempts, its last error and the time of its next
 * attempt; a row being attempted carries a claim ({@code claimed_until}) so that no other dispatcher
 * takes it meanwhile, and a claim left by a process that died runs out by itself. Durable: a restart
 * finds every owed delivery here.
 */
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
     * @param nextAttempt when it is due (pending deliveries), or null: due now
     * @param supersededBy the result that superseded this delivery's result, or null while it is current
     * @param files every DICOM object of the result, SR first, then its SEG and KOS when it has them: a DICOM
     *     destination gets them all or the delivery is not done
     */
    public record Delivery(long id, long resultId, String destination, DeliveryState state, int attempts,
            String lastError, SeriesKey series, Path srFile, String resultJson, Instant updated, String sourceJson,
            Instant nextAttempt, Long supersededBy, List<Path> files) {
        public Delivery {
            files = files == null || files.isEmpty() ? List.of(srFile) : List.copyOf(files);
        }

        /** A delivery of a result that has its SR alone. */
        public Delivery(long id, long resultId, String destination, DeliveryState state, int attempts,
                String lastError, SeriesKey series, Path srFile, String resultJson, Instant updated, String sourceJson,
                Instant nextAttempt, Long supersededBy) {
            this(id, resultId, destination, state, attempts, lastError, series, srFile, resultJson, updated, sourceJson,
                    nextAttempt, supersededBy, List.of(srFile));
        }
    }

    /**
     * One delivery of a result, for operators.
     *
     * @param id delivery id
     * @param destination the destination's configured name
     * @param state its {@link DeliveryState}, by name
     * @param attempts attempts made so far
     * @param lastError the last failure, or null
     */
    public record Summary(long id, String destination, String state, int attempts, String lastError) {
    }

    private static final String OF_RESULT = "SELECT id, destination, state, attempts, last_error"
            + " FROM node_delivery WHERE result_id = ? ORDER BY id";
    private static final String SELECT = "SELECT d.id, d.result_id, d.destination, d.state, d.attempts, d.last_error, "
            + "r.study_uid, r.series_uid, r.sr_path, r.result_json, d.updated, r.source_json, d.next_attempt, "
            + "r.superseded_by, r.objects_json FROM node_delivery d JOIN node_result r ON r.id = d.result_id ";
    private static final int MAX_ERROR = 1000;

    private final NodeDatabase database;
    private final Clock clock;

    public DeliveryLedger(NodeDatabase database, Clock clock) {
        this.database = database;
        this.clock = clock;
    }

    /**
     * Records, inside the caller's transaction (the one that records the result), that {@code resultId}
     * is owed to each of {@code destinations}, due at once.
     *
     * @return the new deliveries' ids, in the order of {@code destinations}
     */
    public static List<Long> owe(Connection c, long resultId, List<String> destinations, Instant now)
            throws SQLException {
        List<Long> ids = new ArrayList<>();
        for (String destination : destinations) {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO node_delivery (result_id, destination, state, "
                    + "attempts, updated, next_attempt) VALUES (?, ?, ?, 0, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
                s.setLong(1, resultId);
                s.setString(2, destination);
                s.setString(3, DeliveryState.PENDING.name());
                s.setTimestamp(4, Timestamp.from(now));
                s.setTimestamp(5, Timestamp.from(now));
                s.executeUpdate();
                try (ResultSet keys = s.getGeneratedKeys()) {
                    keys.next();
                    ids.add(keys.getLong(1));
                }
            }
        }
        return ids;
    }

    /**
     * The deliveries of each of {@code resultIds}, oldest first, in the caller's transaction (one
     * statement, prepared once and run per result).
     */
    public static Map<Long, List<Summary>> ofResults(Connection c, List<Long> resultIds) throws SQLException {
        Map<Long, List<Summary>> deliveries = new LinkedHashMap<>();
        try (PreparedStatement s = c.prepareStatement(OF_RESULT)) {
            for (long resultId : resultIds) {
                List<Summary> list = new ArrayList<>();
                s.setLong(1, resultId);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        list.add(new Summary(r.getLong(1), r.getString(2), r.getString(3), r.getInt(4),
                                r.getString(5)));
                    }
                }
                deliveries.put(resultId, list);
            }
        }
        return deliveries;
    }

    /** The ids of {@code resultId}'s deliveries still pending. */
    public List<Long> pending(long resultId) throws TriageException {
        return database.transaction(c -> {
            List<Long> ids = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT id FROM node_delivery WHERE result_id = ? AND "
                    + "state = ? ORDER BY id")) {
                s.setLong(1, resultId);
                s.setString(2, DeliveryState.PENDING.name());
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        ids.add(r.getLong(1));
                    }
                }
            }
            return ids;
        });
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

    /**
     * The ledger at a glance, for health checks and metrics: how many deliveries are in each state, and when the
     * result of the oldest still pending one was recorded (empty when none is pending), and the counts per
     * destination (each destination in the ledger, every state, zero included).
     */
    public record Totals(Map<DeliveryState, Integer> byState, Optional<Instant> oldestPending,
            Map<String, Map<DeliveryState, Integer>> byDestination) {
        /** Totals of a ledger read without its destinations (a failed reading's zeros). */
        public Totals(Map<DeliveryState, Integer> byState, Optional<Instant> oldestPending) {
            this(byState, oldestPending, Map.of());
        }
    }

    /** See {@link Totals}: two aggregate statements in one transaction. */
    public Totals totals() throws TriageException {
        return database.transaction(c -> {
            Map<DeliveryState, Integer> byState = new EnumMap<>(DeliveryState.class);
            for (DeliveryState state : DeliveryState.values()) {
                byState.put(state, 0);
            }
            Map<String, Map<DeliveryState, Integer>> byDestination = new java.util.TreeMap<>();
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT destination, state, COUNT(*) FROM node_delivery GROUP BY destination, state");
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    DeliveryState state = DeliveryState.valueOf(r.getString(2));
                    byState.merge(state, r.getInt(3), Integer::sum);
                    byDestination.computeIfAbsent(r.getString(1), d -> {
                        Map<DeliveryState, Integer> zero = new EnumMap<>(DeliveryState.class);
                        for (DeliveryState st : DeliveryState.values()) {
                            zero.put(st, 0);
                        }
                        return zero;
                    }).put(state, r.getInt(3));
                }
            }
            Instant oldest = null;
            try (PreparedStatement s = c.prepareStatement("SELECT MIN(r.created) FROM node_delivery d "
                    + "JOIN node_result r ON r.id = d.result_id WHERE d.state = ?")) {
                s.setString(1, DeliveryState.PENDING.name());
                try (ResultSet r = s.executeQuery()) {
                    if (r.next() && r.getTimestamp(1) != null) {
                        oldest = r.getTimestamp(1).toInstant();
                    }
                }
            }
            return new Totals(Collections.unmodifiableMap(byState), Optional.ofNullable(oldest),
                    Collections.unmodifiableMap(byDestination));
        });
    }

    /**
     * Pending deliveries whose next attempt is due at {@code now} and that nobody has claimed, in the
     * order they became due (then oldest first), at most {@code limit}.
     */
    public List<Delivery> due(Instant now, int limit) throws TriageException {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement(SELECT + "WHERE d.state = ? AND (d.next_attempt IS NULL OR "
                    + "d.next_attempt <= ?) AND (d.claimed_until IS NULL OR d.claimed_until <= ?) "
                    + "ORDER BY d.next_attempt, d.id")) {
                s.setMaxRows(limit);
                s.setString(1, DeliveryState.PENDING.name());
                s.setTimestamp(2, Timestamp.from(now));
                s.setTimestamp(3, Timestamp.from(now));
                return read(s);
            }
        });
    }

    /**
     * Claims a due delivery for one attempt until {@code until}; false when another dispatcher has it or
     * it is no longer pending. The claim ends with {@link #finish} or runs out.
     */
    public boolean claim(long id, Instant until) throws TriageException {
        Instant now = clock.instant();
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE node_delivery SET claimed_until = ? WHERE id = ? AND "
                    + "state = ? AND (claimed_until IS NULL OR claimed_until <= ?)")) {
                s.setTimestamp(1, Timestamp.from(until));
                s.setLong(2, id);
                s.setString(3, DeliveryState.PENDING.name());
                s.setTimestamp(4, Timestamp.from(now));
                return s.executeUpdate() == 1;
            }
        });
    }

    /**
     * Drops every claim: at the start of a node that is the database's only dispatcher, a claim can only
     * be one its previous run left when it stopped mid-attempt.
     *
     * @return the claims dropped
     */
    public int releaseClaims() throws TriageException {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE node_delivery SET claimed_until = NULL WHERE "
                    + "claimed_until IS NOT NULL")) {
                return s.executeUpdate();
            }
        });
    }

    /**
     * Records how one claimed attempt went, and what follows under {@code policy}: delivered; dead when
     * rejected or out of attempts; otherwise pending again after the back-off (or the destination's
     * Retry-After, capped by the policy).
     *
     * @return the delivery's state now
     */
    public DeliveryState finish(long id, Exporter.Attempt attempt, RetryPolicy policy) throws TriageException {
        Instant now = clock.instant();
        return database.transaction(c -> {
            int attempts;
            try (PreparedStatement s = c.prepareStatement("SELECT attempts FROM node_delivery WHERE id = ?")) {
                s.setLong(1, id);
                try (ResultSet r = s.executeQuery()) {
                    if (!r.next()) {
                        throw new SQLException("delivery " + id + " does not exist");
                    }
                    attempts = r.getInt(1) + 1;
                }
            }
            DeliveryState state;
            String error;
            Instant next = null;
            if (attempt instanceof Exporter.Attempt.Delivered) {
                state = DeliveryState.DELIVERED;
                error = null;
            } else if (attempt instanceof Exporter.Attempt.Rejected r) {
                state = DeliveryState.DEAD;
                error = r.error();
            } else {
                Exporter.Attempt.Retry r = (Exporter.Attempt.Retry) attempt;
                error = r.error();
                if (attempts >= policy.maxAttempts()) {
                    state = DeliveryState.DEAD;
                } else {
                    state = DeliveryState.PENDING;
                    next = now.plus(policy.backoff(attempts, r.after()));
                }
            }
            try (PreparedStatement s = c.prepareStatement("UPDATE node_delivery SET state = ?, attempts = ?, "
                    + "last_error = COALESCE(?, last_error), next_attempt = ?, claimed_until = NULL, updated = ? "
                    + "WHERE id = ?")) {
                s.setString(1, state.name());
                s.setInt(2, attempts);
                s.setString(3, truncate(error));
                s.setTimestamp(4, next == null ? null : Timestamp.from(next));
                s.setTimestamp(5, Timestamp.from(now));
                s.setLong(6, id);
                s.executeUpdate();
            }
            return state;
        });
    }

    /** Ends a pending delivery whose result was superseded before it was attempted: not sent. */
    public void superseded(long id) throws TriageException {
        transition(id, DeliveryState.PENDING, DeliveryState.SUPERSEDED, null);
    }

    /** Moves a pending delivery to the dead letters at once (no attempt could be made: no such destination). */
    public void dead(long id, String error) throws TriageException {
        transition(id, DeliveryState.PENDING, DeliveryState.DEAD, error);
    }

    /** Makes a dead letter pending again, due now, with a fresh attempt count; false when it was not dead. */
    public boolean retry(long id) throws TriageException {
        Instant now = clock.instant();
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE node_delivery SET state = ?, attempts = 0, "
                    + "next_attempt = ?, claimed_until = NULL, updated = ? WHERE id = ? AND state = ?")) {
                s.setString(1, DeliveryState.PENDING.name());
                s.setTimestamp(2, Timestamp.from(now));
                s.setTimestamp(3, Timestamp.from(now));
                s.setLong(4, id);
                s.setString(5, DeliveryState.DEAD.name());
                return s.executeUpdate() == 1;
            }
        });
    }

    /** An operator's decision that a dead letter is not to be sent; false when it was not dead. */
    public boolean discard(long id) throws TriageException {
        return transition(id, DeliveryState.DEAD, DeliveryState.DISCARDED, null);
    }

    private boolean transition(long id, DeliveryState from, DeliveryState to, String error) throws TriageException {
        Instant now = clock.instant();
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE node_delivery SET state = ?, last_error = COALESCE(?, "
                    + "last_error), next_attempt = NULL, claimed_until = NULL, updated = ? WHERE id = ? AND state = ?")) {
                s.setString(1, to.name());
                s.setString(2, truncate(error));
                s.setTimestamp(3, Timestamp.from(now));
                s.setLong(4, id);
                s.setString(5, from.name());
                return s.executeUpdate() == 1;
            }
        });
    }

    private List<Delivery> query(String sql, Object parameter) throws TriageException {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement(sql)) {
                s.setObject(1, parameter);
                return read(s);
            }
        });
    }

    private static List<Delivery> read(PreparedStatement s) throws SQLException {
        List<Delivery> list = new ArrayList<>();
        try (ResultSet r = s.executeQuery()) {
            while (r.next()) {
                Timestamp next = r.getTimestamp(13);
                long superseding = r.getLong(14);
                Long supersededBy = r.wasNull() ? null : superseding;
                list.add(new Delivery(r.getLong(1), r.getLong(2), r.getString(3),
                        DeliveryState.valueOf(r.getString(4)), r.getInt(5), r.getString(6),
                        new SeriesKey(r.getString(7), r.getString(8)), Path.of(r.getString(9)), r.getString(10),
                        r.getTimestamp(11).toInstant(), r.getString(12), next == null ? null : next.toInstant(),
                        supersededBy, ResultRepository.objects(r.getString(15)).stream()
                                .map(org.cttriage.core.domain.ResultObject::file).toList()));
            }
        }
        return list;
    }

    private static String truncate(String s) {
        return s == null ? null : s.substring(0, Math.min(s.length(), MAX_ERROR));
    }

    /** How long a claim lasts: longer than any one attempt (connect and answer timeouts, a token fetch). */
    public static final Duration CLAIM = Duration.ofMinutes(10);
}
