package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.cttriage.core.domain.ResultObject;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.ResultRepository.CurrentResult;
import org.cttriage.core.node.ResultRepository.NewResult;
import org.cttriage.core.node.ResultRepository.ResultSummary;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ResultRepository} on the node's H2 schema, with real rows. */
class ResultRepositoryTest {
    private static final Instant T0 = Instant.parse("2026-11-02T08:00:00Z");
    private static final SeriesKey THIN = new SeriesKey("1.2.3", "1.2.3.1");
    private static final SeriesKey THICK = new SeriesKey("1.2.3", "1.2.3.2");
    private static final SeriesKey OTHER = new SeriesKey("1.2.4", "1.2.4.1");

    @TempDir
    Path dir;

    private NodeDatabase database;
    private ResultRepository results;

    @BeforeEach
    void setUp() throws Exception {
        database = TestDatabases.migratedH2(dir);
        results = new ResultRepository(database);
    }

    @Test
    void aNewResultSupersedesTheStudysCurrentOneWhicheverSeriesItCameFrom() throws Exception {
        assertThat(currentOf("1.2.3")).isNull();
        assertThat(results.currentSrPathOfStudy("1.2.3")).isNull();
        long first = record(THICK, "h1", "urgent", T0);
        record(OTHER, "h9", "routine", T0.plusSeconds(5));

        long second = database.transaction(c -> {
            Long previous = ResultRepository.currentOfStudy(c, "1.2.3");
            long id = ResultRepository.insert(c, result(THIN, "h2", "stat", T0.plusSeconds(60)));
            ResultRepository.supersede(c, previous, id);
            return id;
        });

        assertThat(currentOf("1.2.3")).isEqualTo(second);
        assertThat(results.currentSrPathOfStudy("1.2.3")).isEqualTo(sr("h2").toString());
        assertThat(ofStudy("1.2.3")).containsExactly(
                new ResultSummary(first, THICK.seriesInstanceUid(), "urgent", "2.25.h1", T0, second),
                new ResultSummary(second, THIN.seriesInstanceUid(), "stat", "2.25.h2", T0.plusSeconds(60), null));
        assertThat(results.current()).as("one per study, oldest first").containsExactly(
                new CurrentResult(sr("h9").toString(), "routine", "{\"h\":\"h9\"}"),
                new CurrentResult(sr("h2").toString(), "stat", "{\"h\":\"h2\"}"));
    }

    @Test
    void aResultIsFoundByItsInputAndRecordedOncePerInput() throws Exception {
        long id = record(THIN, "h1", "routine", T0);

        assertThat(results.forInput(THIN, "h1")).isEqualTo(id);
        assertThat(results.forInput(THIN, "h2")).isNull();
        assertThat(results.forInput(THICK, "h1")).as("same hash, other series").isNull();
        assertThatThrownBy(() -> record(THIN, "h1", "stat", T0.plusSeconds(1)))
                .as("the unique constraint a racing triage of the same input meets")
                .isInstanceOf(TriageException.class);
        assertThat(ofStudy("1.2.3")).hasSize(1);
    }

    @Test
    void recentResultsAreNewestFirstWithTheirDeliveriesAndNoStudyIdentifiers() throws Exception {
        long first = record(THICK, "h1", "urgent", T0);
        long other = record(OTHER, "h9", "routine", T0.plusSeconds(5));
        long second = database.transaction(c -> {
            long id = ResultRepository.insert(c, result(THIN, "h2", "stat", T0.plusSeconds(60)));
            ResultRepository.supersede(c, first, id);
            DeliveryLedger.owe(c, id, List.of("pacs", "fhir"), T0.plusSeconds(60));
            return id;
        });

        List<ResultRepository.RecentResult> recent = results.recent(2);

        assertThat(recent).extracting(ResultRepository.RecentResult::id).containsExactly(second, other);
        assertThat(recent.get(0).priority()).isEqualTo("stat");
        assertThat(recent.get(0).recorded()).isEqualTo(T0.plusSeconds(60));
        assertThat(recent.get(0).superseded()).isFalse();
        assertThat(recent.get(0).deliveries()).containsExactly(java.util.Map.entry("fhir", "PENDING"),
                java.util.Map.entry("pacs", "PENDING"));
        assertThat(recent.get(1).deliveries()).isEmpty();
        assertThat(results.recent(10)).extracting(ResultRepository.RecentResult::superseded)
                .containsExactly(false, false, true);
        assertThat(results.recent(10).get(2).resultJson()).isEqualTo("{\"h\":\"h1\"}");
    }

    @Test
    void aResultsSegKosAndRejectionNoteAreRecordedWithItForTheStudyPageAndEveryDeliveryOfIt() throws Exception {
        List<ResultObject> objects = List.of(
                new ResultObject(ResultObject.SR, "1.2.840.10008.5.1.4.1.1.88.34", "2.25.h1", "2.25.1", sr("h1")),
                new ResultObject(ResultObject.SEG, "1.2.840.10008.5.1.4.1.1.66.4", "2.25.11", "2.25.2",
                        dir.resolve("results").resolve("seg.dcm")),
                new ResultObject(ResultObject.KO, "1.2.840.10008.5.1.4.1.1.88.59", "2.25.12", "2.25.3",
                        dir.resolve("results").resolve("kos.dcm")),
                new ResultObject(ResultObject.KO, "1.2.840.10008.5.1.4.1.1.88.59", "2.25.13", "2.25.4",
                        dir.resolve("results").resolve("rejection.dcm"), List.of("2.25.h0", "2.25.10", "2.25.9")));
        assertThat(objects.get(3).isRejectionNote()).isTrue();
        assertThat(objects.get(2).isRejectionNote()).isFalse();
        NewResult plain = result(THIN, "h1", "urgent", T0);
        database.transaction(c -> {
            long id = ResultRepository.insert(c, new NewResult(plain.series(), plain.inputHash(),
                    plain.srSopInstanceUid(), plain.srFile(), plain.resultJson(), plain.priority(), plain.created(),
                    plain.sourceJson(), objects));
            return DeliveryLedger.owe(c, id, List.of("pacs"), T0);
        });

        assertThat(results.currentDetail("1.2.3")).hasValueSatisfying(d -> assertThat(d.objects()).isEqualTo(objects));
        assertThat(new DeliveryLedger(database, java.time.Clock.fixed(T0, java.time.ZoneOffset.UTC)).due(T0, 10))
                .singleElement().satisfies(d -> assertThat(d.files()).containsExactly(sr("h1"),
                        dir.resolve("results").resolve("seg.dcm"), dir.resolve("results").resolve("kos.dcm"),
                        dir.resolve("results").resolve("rejection.dcm")));
        // A result recorded with its SR alone is delivered and shown as that SR.
        record(OTHER, "h9", "routine", T0);
        assertThat(results.currentDetail("1.2.4")).hasValueSatisfying(d -> assertThat(d.objects()).isEmpty());
    }

    private List<ResultSummary> ofStudy(String study) throws Exception {
        return database.transaction(c -> ResultRepository.ofStudy(c, study));
    }

    private Long currentOf(String study) throws Exception {
        return database.transaction(c -> ResultRepository.currentOfStudy(c, study));
    }

    private long record(SeriesKey series, String hash, String priority, Instant at) throws Exception {
        return database.transaction(c -> ResultRepository.insert(c, result(series, hash, priority, at)));
    }

    private NewResult result(SeriesKey series, String hash, String priority, Instant at) {
        return new NewResult(series, hash, "2.25." + hash, sr(hash), "{\"h\":\"" + hash + "\"}", priority, at,
                "{\"StudyInstanceUID\":\"" + series.studyInstanceUid() + "\"}");
    }

    private Path sr(String hash) {
        return dir.resolve("results").resolve(hash + ".dcm");
    }
}
