package org.cttriage.core.node;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.cttriage.core.error.TriageException;

/**
 * What the node knows of each study, read from the database for operators
 * ({@code ct-triage studies list|show}): every series with its state and the reason for it (the
 * selection's verdict), the study's current result, and each delivery of it.
 */
public final class StudyOverview {
    private final NodeDatabase database;
    private final SeriesRepository seriesRepository;

    public StudyOverview(NodeDatabase database) {
        this.database = database;
        this.seriesRepository = new SeriesRepository(database);
    }

    /** One line of {@code studies list}. */
    public record StudyLine(String studyInstanceUid, int series, int triaged, int notTriaged, int receiving,
                            Instant lastReceived, String priority) {
    }

    /** One series of a study: its state and why. */
    public record SeriesLine(String seriesInstanceUid, int instances, String state, String reason, Instant lastReceived) {
    }

    /** A result of the study (the current one has {@code supersededBy} null) and its deliveries. */
    public record ResultLine(long id, String seriesInstanceUid, String priority, String srSopInstanceUid,
                             Instant created, Long supersededBy, List<DeliveryLine> deliveries) {
    }

    /** One delivery of a result. */
    public record DeliveryLine(long id, String destination, String state, int attempts, String lastError) {
    }

    /** Everything about one study. */
    public record Study(String studyInstanceUid, List<SeriesLine> series, List<ResultLine> results) {
        /** The study's current result, if it has one. */
        public Optional<ResultLine> current() {
            return results.stream().filter(r -> r.supersededBy() == null).findFirst();
        }
    }

    /** Every study, most recently received first. */
    public List<StudyLine> list() throws TriageException {
        return seriesRepository.studies().stream().map(s -> new StudyLine(s.studyInstanceUid(), s.series(), s.triaged(),
                s.notTriaged(), s.receiving(), s.lastReceived(), s.priority())).toList();
    }

    /** One study, or empty when the node has never seen it. */
    public Optional<Study> show(String studyInstanceUid) throws TriageException {
        return database.transaction(c -> {
            List<SeriesLine> series = SeriesRepository.summariesOfStudy(c, studyInstanceUid).stream()
                    .map(s -> new SeriesLine(s.seriesInstanceUid(), s.instances(), s.state(), s.reason(),
                            s.lastReceived())).toList();
            if (series.isEmpty()) {
                return Optional.<Study>empty();
            }
            List<ResultLine> results = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT id, series_uid, priority, sr_sop_uid, created,"
                    + " superseded_by FROM node_result WHERE study_uid = ? ORDER BY id");
                 PreparedStatement d = c.prepareStatement("SELECT id, destination, state, attempts, last_error"
                    + " FROM node_delivery WHERE result_id = ? ORDER BY id")) {
                s.setString(1, studyInstanceUid);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        List<DeliveryLine> deliveries = new ArrayList<>();
                        d.setLong(1, r.getLong(1));
                        try (ResultSet dr = d.executeQuery()) {
                            while (dr.next()) {
                                deliveries.add(new DeliveryLine(dr.getLong(1), dr.getString(2), dr.getString(3),
                                        dr.getInt(4), dr.getString(5)));
                            }
                        }
                        long superseded = r.getLong(6);
                        Long supersededBy = r.wasNull() ? null : superseded;
                        results.add(new ResultLine(r.getLong(1), r.getString(2), r.getString(3), r.getString(4),
                                r.getTimestamp(5).toInstant(), supersededBy, List.copyOf(deliveries)));
                    }
                }
            }
            return Optional.of(new Study(studyInstanceUid, List.copyOf(series), List.copyOf(results)));
        });
    }
}
