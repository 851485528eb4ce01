package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The leader's study-complete detection: quiet studies go to the outbox once per input, again when lost or changed. */
class StudyCompletionTest {
    private static final Instant T0 = Instant.parse("2026-12-04T09:00:00Z");
    private static final Duration QUIET = Duration.ofSeconds(10);
    private static final Duration REQUEUE = Duration.ofMinutes(10);

    @TempDir
    Path dir;

    private final DeliverySchedulerTest.ManualClock clock = new DeliverySchedulerTest.ManualClock(T0);

    /** Moves the clock to {@code T0 + seconds}. */
    private void at(Instant t) {
        clock.advance(Duration.between(clock.instant(), t));
    }

    @Test
    void aQuietStudyIsQueuedOncePerInputAndAgainWhenItChangesOrItsMessageWasLost() throws Exception {
        NodeDatabase database = TestDatabases.migratedH2(dir);
        StudyCompletion completion = new StudyCompletion(database, QUIET, REQUEUE, clock);
        Outbox outbox = new Outbox(database, false);

        series(database, "1.1", "1.1.1", SeriesState.RECEIVING, T0);
        series(database, "1.2", "1.2.1", SeriesState.RECEIVING, T0);
        series(database, "1.2", "1.2.2", SeriesState.TRIAGED, T0.plusSeconds(8)); // the study's last instance
        series(database, "1.3", "1.3.1", SeriesState.TRIAGED, T0);

        at(T0.plusSeconds(5));
        assertThat(completion.sweep()).as("not quiet yet").isEmpty();
        at(T0.plusSeconds(11));
        assertThat(completion.sweep()).as("1.2's other series received 8 s in").containsExactly("1.1");
        assertThat(completion.sweep()).as("queued once").isEmpty();
        at(T0.plusSeconds(19));
        assertThat(completion.sweep()).containsExactly("1.2");
        assertThat(outbox.waiting(10)).extracting(Outbox.Message::queue).containsOnly(StudyCompletion.TRIAGE_QUEUE);
        assertThat(outbox.waiting(10)).extracting(Outbox.Message::body).containsExactly("1.1", "1.2");

        // 1.1 receives again: queued again once quiet.
        series(database, "1.1", "1.1.1", SeriesState.RECEIVING, T0.plusSeconds(20));
        at(T0.plusSeconds(25));
        assertThat(completion.sweep()).isEmpty();
        at(T0.plusSeconds(31));
        assertThat(completion.sweep()).containsExactly("1.1");

        // Nobody triaged 1.2 (its message or its worker was lost): queued again after requeueAfter.
        at(T0.plusSeconds(19).plus(REQUEUE).plusSeconds(1));
        assertThat(completion.sweep()).contains("1.2");
    }

    private static void series(NodeDatabase database, String study, String series, SeriesState state, Instant last)
            throws Exception {
        database.transaction(c -> {
            try (PreparedStatement d = c.prepareStatement("DELETE FROM node_series WHERE study_uid = ? AND series_uid = ?")) {
                d.setString(1, study);
                d.setString(2, series);
                d.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO node_series (study_uid, series_uid, state,"
                    + " instances, first_received, last_received) VALUES (?, ?, ?, 1, ?, ?)")) {
                s.setString(1, study);
                s.setString(2, series);
                s.setString(3, state.name());
                s.setTimestamp(4, Timestamp.from(T0));
                s.setTimestamp(5, Timestamp.from(last));
                s.executeUpdate();
            }
            return null;
        });
    }
}
