package org.cttriage.core.node;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
            List<ResultRepository.ResultSummary> rows = ResultRepository.ofStudy(c, studyInstanceUid);
            Map<Long, List<DeliveryLedger.Summary>> deliveries = DeliveryLedger.ofResults(c,
                    rows.stream().map(ResultRepository.ResultSummary::id).toList());
            List<ResultLine> results = new ArrayList<>();
            for (ResultRepository.ResultSummary r : rows) {
                List<DeliveryLine> lines = deliveries.get(r.id()).stream().map(d -> new DeliveryLine(d.id(),
                        d.destination(), d.state(), d.attempts(), d.lastError())).toList();
                results.add(new ResultLine(r.id(), r.seriesInstanceUid(), r.priority(), r.srSopInstanceUid(),
                        r.created(), r.supersededBy(), lines));
            }
            return Optional.of(new Study(studyInstanceUid, List.copyOf(series), List.copyOf(results)));
        });
    }
}
