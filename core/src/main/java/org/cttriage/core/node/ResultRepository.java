package org.cttriage.core.node;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.cttriage.core.domain.ResultObject;
import org.cttriage.core.error.TriageException;

/**
 * Every statement on {@code node_result}: one row per distinct input of a series (unique on
 * study, series and input hash), with its SR, the TriageResult as JSON, the source attributes
 * the exporters need, and the newer result of the study that superseded it ({@code superseded_by},
 * null for the study's current result). The deliveries of a result, and the query that reads
 * results joined with them, are {@link DeliveryLedger}'s.
 *
 * <p>Methods without a connection run in a transaction of their own. Static methods that take a
 * {@link Connection} run inside the caller's transaction, because the caller's correctness
 * depends on what else that transaction holds (a result, its supersession and its deliveries are
 * recorded together).
 */
public final class ResultRepository {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * A result to record.
     *
     * @param series the series it was made from
     * @param inputHash the hash of that series' input (instances and revisions)
     * @param srSopInstanceUid the SR's SOP Instance UID
     * @param srFile the SR file
     * @param resultJson the TriageResult as JSON
     * @param priority the suggested priority (FHIR RequestPriority code)
     * @param created when it was recorded
     * @param sourceJson the source study's attributes the exporters need, as JSON
     * @param objects every DICOM object of the result, SR first, then its SEG and KOS (empty: the SR alone)
     */
    public record NewResult(SeriesKey series, String inputHash, String srSopInstanceUid, Path srFile,
            String resultJson, String priority, Instant created, String sourceJson, List<ResultObject> objects) {
        public NewResult {
            objects = List.copyOf(objects);
        }

        /** A result with its SR alone. */
        public NewResult(SeriesKey series, String inputHash, String srSopInstanceUid, Path srFile,
                String resultJson, String priority, Instant created, String sourceJson) {
            this(series, inputHash, srSopInstanceUid, srFile, resultJson, priority, created, sourceJson, List.of());
        }
    }

    /**
     * One result of a study, for operators.
     *
     * @param id the result's id
     * @param seriesInstanceUid the series it was made from
     * @param priority its suggested priority
     * @param srSopInstanceUid its SR's SOP Instance UID
     * @param created when it was recorded
     * @param supersededBy the result that superseded it, or null while it is current
     */
    public record ResultSummary(long id, String seriesInstanceUid, String priority, String srSopInstanceUid,
            Instant created, Long supersededBy) {
    }

    /**
     * A current result (superseded by none).
     *
     * @param srPath its SR file, as recorded
     * @param priority its suggested priority
     * @param resultJson the TriageResult as JSON
     */
    public record CurrentResult(String srPath, String priority, String resultJson) {
    }

    private static final String CURRENT_OF_STUDY = "SELECT id FROM node_result WHERE study_uid = ? AND "
            + "superseded_by IS NULL";
    private static final String INSERT = "INSERT INTO node_result (study_uid, series_uid, "
            + "input_hash, sr_sop_uid, sr_path, result_json, priority, created, source_json, objects_json)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    private static final String SUPERSEDE = "UPDATE node_result SET superseded_by = ? WHERE id = ?";
    private static final String CURRENT_SR_OF_STUDY = "SELECT sr_path FROM node_result WHERE study_uid = ? AND "
            + "superseded_by IS NULL";
    private static final String FOR_INPUT = "SELECT id FROM node_result WHERE study_uid = ? AND "
            + "series_uid = ? AND input_hash = ?";
    private static final String OF_STUDY = "SELECT id, series_uid, priority, sr_sop_uid, created,"
            + " superseded_by FROM node_result WHERE study_uid = ? ORDER BY id";
    private static final String CURRENT = "SELECT sr_path, priority, result_json FROM node_result"
            + " WHERE superseded_by IS NULL ORDER BY id";

    private final NodeDatabase database;

    public ResultRepository(NodeDatabase database) {
        this.database = database;
    }

    /** {@code objects} as the JSON of {@code objects_json}. */
    static String objectsJson(List<ResultObject> objects) {
        ArrayNode array = JSON.createArrayNode();
        for (ResultObject o : objects) {
            ObjectNode n = array.addObject();
            n.put("modality", o.modality());
            n.put("sopClassUid", o.sopClassUid());
            n.put("sopInstanceUid", o.sopInstanceUid());
            n.put("seriesInstanceUid", o.seriesInstanceUid());
            n.put("path", o.file().toString());
            if (o.isRejectionNote()) {
                ArrayNode rejects = n.putArray("rejects");
                o.rejects().forEach(rejects::add);
            }
        }
        return array.toString();
    }

    /** The objects recorded in {@code objects_json}; empty for null (a result recorded before version 4). */
    static List<ResultObject> objects(String json) throws SQLException {
        if (json == null || json.isBlank()) {
            return List.of();
        }
        try {
            List<ResultObject> objects = new ArrayList<>();
            for (JsonNode n : JSON.readTree(json)) {
                List<String> rejects = new ArrayList<>();
                n.path("rejects").forEach(r -> rejects.add(r.asText()));
                objects.add(new ResultObject(n.path("modality").asText(), n.path("sopClassUid").asText(),
                        n.path("sopInstanceUid").asText(), n.path("seriesInstanceUid").asText(),
                        Path.of(n.path("path").asText()), rejects));
            }
            return List.copyOf(objects);
        } catch (JsonProcessingException e) {
            throw new SQLException("node_result.objects_json is not the JSON this node writes: " + e.getOriginalMessage(), e);
        }
    }

    /** The study's current result, or null when it has none. */
    public static Long currentOfStudy(Connection c, String studyInstanceUid) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(CURRENT_OF_STUDY)) {
            s.setString(1, studyInstanceUid);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getLong(1) : null;
            }
        }
    }

    /**
     * Records {@code result}, current and superseded by none.
     *
     * @return its id
     * @throws SQLException also when a result for the same input exists (unique constraint)
     */
    public static long insert(Connection c, NewResult result) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(INSERT, Statement.RETURN_GENERATED_KEYS)) {
            s.setString(1, result.series().studyInstanceUid());
            s.setString(2, result.series().seriesInstanceUid());
            s.setString(3, result.inputHash());
            s.setString(4, result.srSopInstanceUid());
            s.setString(5, result.srFile().toString());
            s.setString(6, result.resultJson());
            s.setString(7, result.priority());
            s.setTimestamp(8, Timestamp.from(result.created()));
            s.setString(9, result.sourceJson());
            s.setString(10, result.objects().isEmpty() ? null : objectsJson(result.objects()));
            s.executeUpdate();
            try (ResultSet keys = s.getGeneratedKeys()) {
                keys.next();
                return keys.getLong(1);
            }
        }
    }

    /** Records that result {@code supersededBy} supersedes result {@code id}. */
    public static void supersede(Connection c, long id, long supersededBy) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(SUPERSEDE)) {
            s.setLong(1, supersededBy);
            s.setLong(2, id);
            s.executeUpdate();
        }
    }

    /** The SR file of the study's current result, as recorded, or null when it has none. */
    public String currentSrPathOfStudy(String studyInstanceUid) throws TriageException {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement(CURRENT_SR_OF_STUDY)) {
                s.setString(1, studyInstanceUid);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? r.getString(1) : null;
                }
            }
        });
    }

    /** The result made for exactly this input of {@code series}, or null. */
    public Long forInput(SeriesKey series, String inputHash) throws TriageException {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement(FOR_INPUT)) {
                s.setString(1, series.studyInstanceUid());
                s.setString(2, series.seriesInstanceUid());
                s.setString(3, inputHash);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? r.getLong(1) : null;
                }
            }
        });
    }

    /** Every result of the study, oldest first. */
    public static List<ResultSummary> ofStudy(Connection c, String studyInstanceUid) throws SQLException {
        List<ResultSummary> results = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(OF_STUDY)) {
            s.setString(1, studyInstanceUid);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    long superseded = r.getLong(6);
                    Long supersededBy = r.wasNull() ? null : superseded;
                    results.add(new ResultSummary(r.getLong(1), r.getString(2), r.getString(3), r.getString(4),
                            r.getTimestamp(5).toInstant(), supersededBy));
                }
            }
        }
        return results;
    }

    /** Every current result (one per study), oldest first. */
    public List<CurrentResult> current() throws TriageException {
        return database.transaction(c -> {
            List<CurrentResult> results = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(CURRENT);
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    results.add(new CurrentResult(r.getString(1), r.getString(2), r.getString(3)));
                }
            }
            return results;
        });
    }

    /**
     * Results per suggested priority (FHIR code), for metrics: every result ever recorded when {@code currentOnly} is
     * false, else only the studies' current ones (not superseded).
     */
    public java.util.Map<String, Integer> countsByPriority(boolean currentOnly) throws TriageException {
        return database.transaction(c -> {
            java.util.Map<String, Integer> counts = new java.util.TreeMap<>();
            try (PreparedStatement s = c.prepareStatement(currentOnly
                    ? "SELECT priority, COUNT(*) FROM node_result WHERE superseded_by IS NULL GROUP BY priority"
                    : "SELECT priority, COUNT(*) FROM node_result GROUP BY priority");
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    counts.put(r.getString(1), r.getInt(2));
                }
            }
            return counts;
        });
    }

    /**
     * A recent result for an operator's overview, without the study's identifiers.
     *
     * @param id the result's id
     * @param recorded when it was recorded
     * @param priority its suggested priority (FHIR code)
     * @param superseded whether a later result of the study replaced it
     * @param resultJson the result (findings, probabilities, model), for the caller to summarise
     * @param deliveries each destination's delivery state, by destination name
     */
    public record RecentResult(long id, java.time.Instant recorded, String priority, boolean superseded,
            String resultJson, java.util.Map<String, String> deliveries) {
    }

    /** The {@code limit} most recently recorded results, newest first, each with its deliveries' states. */
    public List<RecentResult> recent(int limit) throws TriageException {
        return database.transaction(c -> {
            List<Object[]> rows = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT id, created, priority, superseded_by, result_json "
                    + "FROM node_result ORDER BY id DESC FETCH FIRST ? ROWS ONLY")) {
                s.setInt(1, limit);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        rows.add(new Object[] {r.getLong(1), r.getTimestamp(2).toInstant(), r.getString(3),
                            r.getObject(4) != null, r.getString(5)});
                    }
                }
            }
            java.util.Map<Long, java.util.Map<String, String>> deliveries = new java.util.HashMap<>();
            if (!rows.isEmpty()) {
                long oldest = (Long) rows.get(rows.size() - 1)[0];
                try (PreparedStatement s = c.prepareStatement("SELECT result_id, destination, state FROM node_delivery "
                        + "WHERE result_id >= ? ORDER BY destination")) {
                    s.setLong(1, oldest);
                    try (ResultSet r = s.executeQuery()) {
                        while (r.next()) {
                            deliveries.computeIfAbsent(r.getLong(1), k -> new java.util.LinkedHashMap<>())
                                    .put(r.getString(2), r.getString(3));
                        }
                    }
                }
            }
            List<RecentResult> recent = new ArrayList<>();
            for (Object[] row : rows) {
                recent.add(new RecentResult((Long) row[0], (java.time.Instant) row[1], (String) row[2],
                        (Boolean) row[3], (String) row[4],
                        java.util.Collections.unmodifiableMap(deliveries.getOrDefault((Long) row[0], java.util.Map.of()))));
            }
            return recent;
        });
    }

    /**
     * A study's current result in full, for the worklist.
     *
     * @param sourceJson the source study's attributes recorded with it (patient ID, accession number…)
     */
    public record CurrentDetail(long id, String seriesInstanceUid, String srSopInstanceUid, String resultJson,
            String sourceJson, java.time.Instant created, String srPath, List<ResultObject> objects) {
        public CurrentDetail {
            objects = List.copyOf(objects);
        }
    }

    /** The study's current (not superseded) result, if it has one. */
    public java.util.Optional<CurrentDetail> currentDetail(String studyInstanceUid) throws TriageException {
        return java.util.Optional.ofNullable(database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT id, series_uid, sr_sop_uid, result_json, source_json, "
                    + "created, sr_path, objects_json FROM node_result WHERE study_uid = ? AND superseded_by IS NULL")) {
                s.setString(1, studyInstanceUid);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? new CurrentDetail(r.getLong(1), r.getString(2), r.getString(3), r.getString(4),
                            r.getString(5), r.getTimestamp(6).toInstant(), r.getString(7), objects(r.getString(8))) : null;
                }
            }
        }));
    }
}
