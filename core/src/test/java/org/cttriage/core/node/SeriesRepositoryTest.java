package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.cttriage.core.dicom.net.ReceivedInstance;
import org.cttriage.core.node.SeriesRepository.SeriesSummary;
import org.cttriage.core.node.SeriesRepository.StudySummary;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SeriesRepository} on the node's H2 schema, with real rows. */
class SeriesRepositoryTest {
    private static final Instant T0 = Instant.parse("2026-11-02T08:00:00Z");
    private static final String STUDY = "1.2.3";
    private static final SeriesKey A = new SeriesKey(STUDY, "1.2.3.1");
    private static final SeriesKey B = new SeriesKey(STUDY, "1.2.3.2");
    private static final SeriesKey OTHER = new SeriesKey("1.2.4", "1.2.4.1");

    @TempDir
    Path dir;

    private NodeDatabase database;
    private SeriesRepository series;

    @BeforeEach
    void setUp() throws Exception {
        database = TestDatabases.migratedH2(dir);
        series = new SeriesRepository(database);
    }

    @Test
    void receivingCreatesTheSeriesThenCountsAndReopensIt() throws Exception {
        received(A, 3, 3, T0);
        assertThat(isReceiving(A)).isTrue();
        assertThat(isReceiving(B)).as("not recorded").isFalse();

        series.mark(A, SeriesState.NOT_TRIAGED, "x".repeat(1500));
        assertThat(isReceiving(A)).isFalse();
        SeriesSummary marked = summaries(STUDY).get(0);
        assertThat(marked.state()).isEqualTo(SeriesState.NOT_TRIAGED.name());
        assertThat(marked.reason()).as("cut to fit the column").hasSize(1000);

        received(A, 2, 99, T0.plusSeconds(60));

        assertThat(summaries(STUDY)).containsExactly(
                new SeriesSummary(A.seriesInstanceUid(), 5, SeriesState.RECEIVING.name(), null, T0.plusSeconds(60)));
        assertThat(series.lastReceived(A)).isEqualTo(T0.plusSeconds(60));
        assertThat(series.lastReceived(B)).isNull();
    }

    @Test
    void seriesAreFoundByStudyAndByState() throws Exception {
        received(B, 1, 1, T0.plusSeconds(10));
        received(A, 2, 2, T0.plusSeconds(20));
        received(OTHER, 4, 4, T0);
        database.transaction(c -> {
            SeriesRepository.mark(c, B, SeriesState.TRIAGED, "selected: thinnest");
            return null;
        });

        assertThat(database.<List<String>>transaction(c -> SeriesRepository.ofStudy(c, STUDY)))
                .containsExactlyInAnyOrder(A.seriesInstanceUid(), B.seriesInstanceUid());
        assertThat(series.ofStudyInState(STUDY, SeriesState.RECEIVING)).containsExactly(A.seriesInstanceUid());
        assertThat(series.inState(SeriesState.RECEIVING)).as("least recently received first")
                .containsExactly(OTHER, A);
        assertThat(series.lastReceivedOfStudy(STUDY)).isEqualTo(T0.plusSeconds(20));
        assertThat(series.lastReceivedOfStudy("9.9")).isNull();
        assertThat(summaries(STUDY)).containsExactly(
                new SeriesSummary(A.seriesInstanceUid(), 2, SeriesState.RECEIVING.name(), null, T0.plusSeconds(20)),
                new SeriesSummary(B.seriesInstanceUid(), 1, SeriesState.TRIAGED.name(), "selected: thinnest",
                        T0.plusSeconds(10)));
        assertThat(summaries("9.9")).isEmpty();
    }

    @Test
    void studiesAreSummarisedWithTheirCurrentResultsPriority() throws Exception {
        received(A, 1, 1, T0);
        received(B, 1, 1, T0.plusSeconds(30));
        received(OTHER, 1, 1, T0.plusSeconds(10));
        series.mark(A, SeriesState.TRIAGED, null);
        series.mark(B, SeriesState.NOT_TRIAGED, "too thick");
        long old = result(A, "urgent");
        long current = result(A, "routine");
        supersede(old, current);

        assertThat(series.studies()).containsExactly(
                new StudySummary(STUDY, 2, 1, 1, 0, T0.plusSeconds(30), "routine"),
                new StudySummary(OTHER.studyInstanceUid(), 1, 0, 0, 1, T0.plusSeconds(10), null));
    }

    @Test
    void onlyFinishedQuietSpooledSeriesWithNoDeliveryOwedAreRemovableFromTheSpool() throws Exception {
        Instant cutoff = T0.plus(Duration.ofHours(72));
        DeliveryLedger ledger = new DeliveryLedger(database, Clock.fixed(T0, ZoneOffset.UTC));
        RetryPolicy policy = new RetryPolicy(3, Duration.ofSeconds(1), 2, Duration.ofSeconds(10));
        SeriesKey delivered = new SeriesKey("1.1", "1.1.1");
        SeriesKey owed = new SeriesKey("1.2", "1.2.1");
        SeriesKey dead = new SeriesKey("1.3", "1.3.1");
        SeriesKey receiving = new SeriesKey("1.4", "1.4.1");
        SeriesKey recent = new SeriesKey("1.5", "1.5.1");
        SeriesKey notTriaged = new SeriesKey("1.6", "1.6.1");
        for (SeriesKey key : List.of(delivered, owed, dead, receiving, notTriaged)) {
            spool(key, T0);
        }
        spool(recent, cutoff);
        received(new SeriesKey("1.7", "1.7.1"), 1, 1, T0);   // no instance in the spool
        for (SeriesKey key : List.of(delivered, owed, dead, recent)) {
            series.mark(key, SeriesState.TRIAGED, null);
        }
        series.mark(notTriaged, SeriesState.NOT_TRIAGED, "no CT");
        series.mark(new SeriesKey("1.7", "1.7.1"), SeriesState.TRIAGED, null);
        ledger.finish(owe(delivered, "PACS"), new Exporter.Attempt.Delivered("ok"), policy);
        owe(owed, "PACS");
        ledger.dead(owe(dead, "FHIR"), "TRIAGE-0000 refused");

        assertThat(series.removableFromSpool(cutoff)).containsExactlyInAnyOrder(delivered, notTriaged);
        assertThat(isRemovableFromSpool(cutoff, delivered)).isTrue();
        assertThat(isRemovableFromSpool(cutoff, owed)).isFalse();
        assertThat(isRemovableFromSpool(cutoff, recent)).isFalse();
    }

    private void received(SeriesKey key, int added, int instancesIfNew, Instant at) throws Exception {
        database.transaction(c -> {
            try (NodeDatabase.Statements s = new NodeDatabase.Statements(c, false)) {
                SeriesRepository.received(s, key, added, instancesIfNew, Timestamp.from(at));
            }
            return null;
        });
    }

    private boolean isReceiving(SeriesKey key) throws Exception {
        return database.transaction(c -> {
            try (NodeDatabase.Statements s = new NodeDatabase.Statements(c, false)) {
                return SeriesRepository.isReceiving(s, key);
            }
        });
    }

    private boolean isRemovableFromSpool(Instant cutoff, SeriesKey key) throws Exception {
        return database.transaction(c -> SeriesRepository.isRemovableFromSpool(c, cutoff, key));
    }

    private List<SeriesSummary> summaries(String study) throws Exception {
        return database.transaction(c -> SeriesRepository.summariesOfStudy(c, study));
    }

    /** One instance of {@code key} recorded in the spool, and its series, as the ingest records them. */
    private void spool(SeriesKey key, Instant at) throws Exception {
        String sop = key.seriesInstanceUid() + ".1";
        ReceivedInstance instance = new ReceivedInstance(dir.resolve(sop + ".part"), "1.2.840.10008.5.1.4.1.1.2", sop,
                "1.2.840.10008.1.2.1", "STORESCU", null, 100);
        database.transaction(c -> {
            try (NodeDatabase.Statements s = new NodeDatabase.Statements(c, false)) {
                InstanceRepository.write(s, List.of(new InstanceRepository.Row(instance, key,
                        dir.resolve(sop + ".dcm"), null)), Timestamp.from(at));
                SeriesRepository.received(s, key, 1, 1, Timestamp.from(at));
            }
            return null;
        });
    }

    private long owe(SeriesKey key, String destination) throws Exception {
        long result = result(key, "routine");
        return database.transaction(c -> DeliveryLedger.owe(c, result, List.of(destination), T0)).get(0);
    }

    private int results;

    /** A result of {@code key}, seeded directly: the table is another repository's. */
    private long result(SeriesKey key, String priority) throws Exception {
        int n = ++results;
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO node_result (study_uid, series_uid, input_hash,"
                    + " sr_sop_uid, sr_path, result_json, priority, created) VALUES (?, ?, ?, ?, 'sr.dcm', '{}', ?, ?)",
                    Statement.RETURN_GENERATED_KEYS)) {
                s.setString(1, key.studyInstanceUid());
                s.setString(2, key.seriesInstanceUid());
                s.setString(3, "hash-" + n);
                s.setString(4, "2.25." + n);
                s.setString(5, priority);
                s.setTimestamp(6, Timestamp.from(T0));
                s.executeUpdate();
                try (ResultSet keys = s.getGeneratedKeys()) {
                    keys.next();
                    return keys.getLong(1);
                }
            }
        });
    }

    private void supersede(long old, long by) throws Exception {
        database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE node_result SET superseded_by = ? WHERE id = ?")) {
                s.setLong(1, by);
                s.setLong(2, old);
                return s.executeUpdate();
            }
        });
    }
}
