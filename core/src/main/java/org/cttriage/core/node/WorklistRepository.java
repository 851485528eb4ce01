package org.cttriage.core.node;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;

/**
 * The reading worklist's table ({@code node_study}) and its reviews ({@code node_review}), and the priority policy:
 * <ul>
 * <li>a study's priority is its result's (the highest severity among the findings called present), with the findings
 * that caused it;</li>
 * <li>a later result of the study may raise it, never lower it: lowering is a person's act ({@link #review}), kept
 * with who, when, the priority before and after and the comment; a raise sends a reviewed study back to
 * {@link State#NEW};</li>
 * <li>the order is priority (stat first), then the time the study reached its priority.</li>
 * </ul>
 */
public final class WorklistRepository {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String COLUMNS = "study_uid, priority, priority_findings, priority_source, state, "
            + "first_result, priority_since, updated, reviewed_by, reviewed_at";
    private static final String ORDER = "CASE priority WHEN 'stat' THEN 0 WHEN 'asap' THEN 1 WHEN 'urgent' THEN 2 "
            + "ELSE 3 END, priority_since, study_uid";

    /** Where a study stands with the readers. */
    public enum State { NEW, REVIEWED, CONFIRMED, DISMISSED }

    /** What a reader did. */
    public enum Action {
        /** The findings are right: {@link State#CONFIRMED}. */
        CONFIRM,
        /** The findings are wrong or irrelevant: {@link State#DISMISSED}. */
        DISMISS,
        /** A new priority, higher or lower: {@link State#REVIEWED}. */
        REPRIORITISE
    }

    /**
     * One study on the worklist.
     *
     * @param prioritySource {@code model} (a result set it) or {@code review} (a reader did)
     * @param prioritySince when the study reached its present priority (the overdue clock runs from here)
     */
    public record Entry(String studyInstanceUid, Priority priority, List<String> priorityFindings,
            String prioritySource, State state, Instant firstResult, Instant prioritySince, Instant updated,
            String reviewedBy, Instant reviewedAt) {
    }

    /** One review, as kept. */
    public record Review(long id, String studyInstanceUid, String user, Action action, Priority before,
            Priority after, String comment, Instant at) {
    }

    /** What a new result did to the study's priority. */
    public record Change(Priority before, Priority after, boolean raised) {
    }

    /**
     * Filters of {@link #list}: empty sets and a null {@code since} filter nothing.
     *
     * @param since studies whose first result is at or after this
     */
    public record Filter(Set<Priority> priorities, Set<State> states, Instant since) {
        public static Filter all() {
            return new Filter(Set.of(), Set.of(), null);
        }
    }

    private final NodeDatabase database;

    public WorklistRepository(NodeDatabase database) {
        this.database = database;
    }

    /**
     * The policy, in the transaction that records a study's new result: a new study enters with the result's
     * priority; a known one is raised when the result's is higher, and otherwise keeps its own.
     *
     * @param causes the findings called present whose severity is the result's priority
     */
    public static Change resultRecorded(Connection c, String studyInstanceUid, Priority result, List<String> causes,
            Instant now) throws SQLException {
        Entry current = find(c, studyInstanceUid);
        String findings = json(causes);
        if (current == null) {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO node_study (" + COLUMNS
                    + ") VALUES (?, ?, ?, 'model', 'NEW', ?, ?, ?, NULL, NULL)")) {
                s.setString(1, studyInstanceUid);
                s.setString(2, result.fhirCode());
                s.setString(3, findings);
                s.setTimestamp(4, Timestamp.from(now));
                s.setTimestamp(5, Timestamp.from(now));
                s.setTimestamp(6, Timestamp.from(now));
                s.executeUpdate();
            }
            return new Change(null, result, true);
        }
        if (result.compareTo(current.priority()) > 0) {
            try (PreparedStatement s = c.prepareStatement("UPDATE node_study SET priority = ?, priority_findings = ?, "
                    + "priority_source = 'model', state = 'NEW', priority_since = ?, updated = ? WHERE study_uid = ?")) {
                s.setString(1, result.fhirCode());
                s.setString(2, findings);
                s.setTimestamp(3, Timestamp.from(now));
                s.setTimestamp(4, Timestamp.from(now));
                s.setString(5, studyInstanceUid);
                s.executeUpdate();
            }
            return new Change(current.priority(), result, true);
        }
        try (PreparedStatement s = c.prepareStatement("UPDATE node_study SET updated = ? WHERE study_uid = ?")) {
            s.setTimestamp(1, Timestamp.from(now));
            s.setString(2, studyInstanceUid);
            s.executeUpdate();
        }
        return new Change(current.priority(), current.priority(), false);
    }

    /**
     * A reader's review, kept with the priority before and after.
     *
     * @param priority the new priority for {@link Action#REPRIORITISE}; ignored otherwise
     * @return the study after the review
     */
    public Entry review(String studyInstanceUid, String user, Action action, Priority priority, String comment,
            Instant now) throws TriageException {
        if (action == Action.REPRIORITISE && priority == null) {
            throw new IllegalArgumentException("a re-prioritisation needs the new priority");
        }
        Entry reviewed = database.transaction(c -> {
            Entry current = find(c, studyInstanceUid);
            if (current == null) {
                return null;
            }
            Priority after = action == Action.REPRIORITISE ? priority : current.priority();
            State state = switch (action) {
                case CONFIRM -> State.CONFIRMED;
                case DISMISS -> State.DISMISSED;
                case REPRIORITISE -> State.REVIEWED;
            };
            boolean changed = after != current.priority();
            try (PreparedStatement s = c.prepareStatement("UPDATE node_study SET priority = ?, priority_source = ?, "
                    + "priority_since = ?, state = ?, reviewed_by = ?, reviewed_at = ?, updated = ? WHERE study_uid = ?")) {
                s.setString(1, after.fhirCode());
                s.setString(2, changed ? "review" : current.prioritySource());
                s.setTimestamp(3, Timestamp.from(changed ? now : current.prioritySince()));
                s.setString(4, state.name());
                s.setString(5, user);
                s.setTimestamp(6, Timestamp.from(now));
                s.setTimestamp(7, Timestamp.from(now));
                s.setString(8, studyInstanceUid);
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO node_review (study_uid, user_name, action, "
                    + "priority_before, priority_after, comment, at) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                s.setString(1, studyInstanceUid);
                s.setString(2, user);
                s.setString(3, action.name());
                s.setString(4, current.priority().fhirCode());
                s.setString(5, after.fhirCode());
                s.setString(6, comment == null || comment.isBlank() ? null : comment);
                s.setTimestamp(7, Timestamp.from(now));
                s.executeUpdate();
            }
            return find(c, studyInstanceUid);
        });
        if (reviewed == null) {
            throw new TriageException(ErrorCode.NO_SUCH_INPUT, "study " + studyInstanceUid + " is not on the worklist");
        }
        return reviewed;
    }

    /** The study's entry, if it is on the worklist. */
    public Optional<Entry> find(String studyInstanceUid) throws TriageException {
        return Optional.ofNullable(database.transaction(c -> find(c, studyInstanceUid)));
    }

    /** The orders of {@link #list}. */
    public enum Order {
        /** Priority (stat first), then the time the study reached it. */
        PRIORITY,
        /** The study's first instance received, newest first (its first result when no series is recorded). */
        ARRIVAL
    }

    /** The entries the filter selects, in worklist order (priority, then since when), {@code limit} from {@code offset}. */
    public List<Entry> list(Filter filter, int offset, int limit) throws TriageException {
        return list(filter, Order.PRIORITY, offset, limit);
    }

    /** The entries the filter selects in {@code order}, {@code limit} from {@code offset}. */
    public List<Entry> list(Filter filter, Order order, int offset, int limit) throws TriageException {
        String orderBy = order == Order.PRIORITY ? ORDER : "COALESCE((SELECT MIN(se.first_received) FROM node_series se "
                + "WHERE se.study_uid = node_study.study_uid), first_result) DESC, " + ORDER;
        return database.transaction(c -> {
            List<Object> args = new ArrayList<>();
            String where = where(filter, args);
            List<Entry> entries = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM node_study" + where
                    + " ORDER BY " + orderBy + " OFFSET ? ROWS FETCH NEXT ? ROWS ONLY")) {
                int i = bind(s, args);
                s.setInt(i++, offset);
                s.setInt(i, limit);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        entries.add(entry(r));
                    }
                }
            }
            return entries;
        });
    }

    /** How many entries the filter selects. */
    public int count(Filter filter) throws TriageException {
        return database.transaction(c -> {
            List<Object> args = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT COUNT(*) FROM node_study" + where(filter, args))) {
                bind(s, args);
                try (ResultSet r = s.executeQuery()) {
                    r.next();
                    return r.getInt(1);
                }
            }
        });
    }

    /**
     * The studies still {@link State#NEW} longer than {@code limits} allows for their priority (a priority without a
     * limit is never overdue), most urgent first.
     */
    public List<Entry> overdue(java.util.Map<Priority, java.time.Duration> limits, Instant now) throws TriageException {
        if (limits.isEmpty()) {
            return List.of();
        }
        return database.transaction(c -> {
            List<String> clauses = new ArrayList<>();
            List<Object> args = new ArrayList<>();
            for (java.util.Map.Entry<Priority, java.time.Duration> limit : limits.entrySet()) {
                clauses.add("(priority = ? AND priority_since < ?)");
                args.add(limit.getKey().fhirCode());
                args.add(Timestamp.from(now.minus(limit.getValue())));
            }
            List<Entry> entries = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM node_study WHERE state = 'NEW' AND ("
                    + String.join(" OR ", clauses) + ") ORDER BY " + ORDER)) {
                bind(s, args);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        entries.add(entry(r));
                    }
                }
            }
            return entries;
        });
    }

    /** The study's reviews, oldest first. */
    public List<Review> reviews(String studyInstanceUid) throws TriageException {
        return database.transaction(c -> {
            List<Review> reviews = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT id, study_uid, user_name, action, priority_before, "
                    + "priority_after, comment, at FROM node_review WHERE study_uid = ? ORDER BY id")) {
                s.setString(1, studyInstanceUid);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        reviews.add(new Review(r.getLong(1), r.getString(2), r.getString(3),
                                Action.valueOf(r.getString(4)), Priority.fromFhirCode(r.getString(5)),
                                Priority.fromFhirCode(r.getString(6)), r.getString(7), r.getTimestamp(8).toInstant()));
                    }
                }
            }
            return reviews;
        });
    }

    private static Entry find(Connection c, String studyInstanceUid) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM node_study WHERE study_uid = ?")) {
            s.setString(1, studyInstanceUid);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? entry(r) : null;
            }
        }
    }

    /** Filter values are bound as parameters, never spliced into the statement. */
    private static String where(Filter filter, List<Object> args) {
        List<String> clauses = new ArrayList<>();
        if (!filter.priorities().isEmpty()) {
            clauses.add("priority IN (" + String.join(", ", java.util.Collections.nCopies(filter.priorities().size(), "?"))
                    + ")");
            filter.priorities().forEach(p -> args.add(p.fhirCode()));
        }
        if (!filter.states().isEmpty()) {
            clauses.add("state IN (" + String.join(", ", java.util.Collections.nCopies(filter.states().size(), "?"))
                    + ")");
            filter.states().forEach(st -> args.add(st.name()));
        }
        if (filter.since() != null) {
            clauses.add("first_result >= ?");
            args.add(Timestamp.from(filter.since()));
        }
        return clauses.isEmpty() ? "" : " WHERE " + String.join(" AND ", clauses);
    }

    private static int bind(PreparedStatement s, List<Object> args) throws SQLException {
        int i = 1;
        for (Object a : args) {
            s.setObject(i++, a);
        }
        return i;
    }

    private static Entry entry(ResultSet r) throws SQLException {
        Timestamp reviewed = r.getTimestamp(10);
        return new Entry(r.getString(1), Priority.fromFhirCode(r.getString(2)), list(r.getString(3)), r.getString(4),
                State.valueOf(r.getString(5)), r.getTimestamp(6).toInstant(), r.getTimestamp(7).toInstant(),
                r.getTimestamp(8).toInstant(), r.getString(9), reviewed == null ? null : reviewed.toInstant());
    }

    private static String json(List<String> values) {
        try {
            return JSON.writeValueAsString(values);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> list(String json) {
        try {
            return List.copyOf(JSON.readValue(json, new TypeReference<List<String>>() { }));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return List.of();
        }
    }

    /** Parses a state name, case-insensitively; IllegalArgumentException naming the allowed values. */
    public static State state(String name) {
        try {
            return State.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("state must be one of new, reviewed, confirmed, dismissed; was " + name);
        }
    }
}
