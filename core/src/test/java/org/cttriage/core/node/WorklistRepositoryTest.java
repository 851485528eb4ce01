package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.WorklistRepository.Action;
import org.cttriage.core.node.WorklistRepository.Entry;
import org.cttriage.core.node.WorklistRepository.Filter;
import org.cttriage.core.node.WorklistRepository.State;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worklist's priority policy and queries on the node's H2 schema. */
class WorklistRepositoryTest {
    private static final Instant T0 = Instant.parse("2026-12-04T08:00:00Z");

    @TempDir
    Path dir;

    private NodeDatabase database;
    private WorklistRepository worklist;

    @BeforeEach
    void setUp() throws Exception {
        database = TestDatabases.migratedH2(dir);
        worklist = new WorklistRepository(database);
    }

    @Test
    void aLaterResultRaisesTheStudysPriorityButNeverLowersIt() throws Exception {
        assertThat(result("1.1", Priority.URGENT, List.of("liver-mass"), T0).raised()).isTrue();
        Entry urgent = worklist.find("1.1").orElseThrow();
        assertThat(urgent.priority()).isEqualTo(Priority.URGENT);
        assertThat(urgent.priorityFindings()).containsExactly("liver-mass");
        assertThat(urgent.state()).isEqualTo(State.NEW);

        WorklistRepository.Change lower = result("1.1", Priority.ROUTINE, List.of(), T0.plusSeconds(60));
        assertThat(lower).isEqualTo(new WorklistRepository.Change(Priority.URGENT, Priority.URGENT, false));
        Entry kept = worklist.find("1.1").orElseThrow();
        assertThat(kept.priority()).isEqualTo(Priority.URGENT);
        assertThat(kept.priorityFindings()).as("what caused the priority it has").containsExactly("liver-mass");
        assertThat(kept.prioritySince()).isEqualTo(T0);
        assertThat(kept.updated()).isEqualTo(T0.plusSeconds(60));

        result("1.1", Priority.STAT, List.of("aortic-aneurysm"), T0.plusSeconds(120));
        Entry stat = worklist.find("1.1").orElseThrow();
        assertThat(stat.priority()).isEqualTo(Priority.STAT);
        assertThat(stat.priorityFindings()).containsExactly("aortic-aneurysm");
        assertThat(stat.prioritySince()).isEqualTo(T0.plusSeconds(120));
        assertThat(stat.firstResult()).isEqualTo(T0);
    }

    @Test
    void loweringIsAReadersActKeptWithWhoWhenAndWhy() throws Exception {
        result("1.1", Priority.STAT, List.of("aortic-aneurysm"), T0);

        Entry lowered = worklist.review("1.1", "dr.house", Action.REPRIORITISE, Priority.ROUTINE, "old aneurysm, known",
                T0.plusSeconds(300));
        assertThat(lowered.priority()).isEqualTo(Priority.ROUTINE);
        assertThat(lowered.prioritySource()).isEqualTo("review");
        assertThat(lowered.state()).isEqualTo(State.REVIEWED);
        assertThat(lowered.reviewedBy()).isEqualTo("dr.house");
        assertThat(lowered.reviewedAt()).isEqualTo(T0.plusSeconds(300));

        // The same result again does not undo the reader's decision; a higher one is new evidence.
        result("1.1", Priority.ROUTINE, List.of(), T0.plusSeconds(400));
        assertThat(worklist.find("1.1").orElseThrow().priority()).isEqualTo(Priority.ROUTINE);
        worklist.review("1.1", "dr.cuddy", Action.DISMISS, null, null, T0.plusSeconds(500));
        assertThat(worklist.find("1.1").orElseThrow().state()).isEqualTo(State.DISMISSED);
        result("1.1", Priority.ASAP, List.of("pneumothorax"), T0.plusSeconds(600));
        Entry raised = worklist.find("1.1").orElseThrow();
        assertThat(raised.priority()).isEqualTo(Priority.ASAP);
        assertThat(raised.state()).as("a raise asks for a new look").isEqualTo(State.NEW);
        assertThat(raised.prioritySource()).isEqualTo("model");

        assertThat(worklist.reviews("1.1")).extracting(WorklistRepository.Review::user, WorklistRepository.Review::action,
                WorklistRepository.Review::before, WorklistRepository.Review::after, WorklistRepository.Review::comment)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("dr.house", Action.REPRIORITISE, Priority.STAT,
                                Priority.ROUTINE, "old aneurysm, known"),
                        org.assertj.core.groups.Tuple.tuple("dr.cuddy", Action.DISMISS, Priority.ROUTINE,
                                Priority.ROUTINE, null));
        worklist.review("1.1", "dr.house", Action.CONFIRM, null, "seen", T0.plusSeconds(700));
        assertThat(worklist.find("1.1").orElseThrow().state()).isEqualTo(State.CONFIRMED);
    }

    @Test
    void aReviewOfAStudyNotOnTheWorklistIsRefused() {
        assertThatThrownBy(() -> worklist.review("9.9", "dr.house", Action.CONFIRM, null, null, T0))
                .isInstanceOf(TriageException.class).hasMessageContaining("TRIAGE-0106");
        assertThatThrownBy(() -> worklist.review("9.9", "dr.house", Action.REPRIORITISE, null, null, T0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theListIsOrderedByPriorityThenWaitingAndFiltersAndPages() throws Exception {
        result("1.1", Priority.ROUTINE, List.of(), T0);
        result("1.2", Priority.STAT, List.of("pneumothorax"), T0.plusSeconds(10));
        result("1.3", Priority.URGENT, List.of("liver-mass"), T0.plusSeconds(20));
        result("1.4", Priority.STAT, List.of("aortic-aneurysm"), T0.plusSeconds(5));
        worklist.review("1.3", "dr.house", Action.DISMISS, null, null, T0.plusSeconds(30));

        assertThat(uids(worklist.list(Filter.all(), 0, 10))).containsExactly("1.4", "1.2", "1.3", "1.1");
        assertThat(uids(worklist.list(Filter.all(), 1, 2))).containsExactly("1.2", "1.3");
        Filter newStat = new Filter(Set.of(Priority.STAT, Priority.URGENT), Set.of(State.NEW), null);
        assertThat(uids(worklist.list(newStat, 0, 10))).containsExactly("1.4", "1.2");
        assertThat(worklist.count(newStat)).isEqualTo(2);
        Filter since = new Filter(Set.of(), Set.of(), T0.plusSeconds(10));
        assertThat(uids(worklist.list(since, 0, 10))).containsExactly("1.2", "1.3");
        assertThat(worklist.count(Filter.all())).isEqualTo(4);
        // By arrival: newest first (no series recorded here, so each study's first result stands for it).
        assertThat(uids(worklist.list(Filter.all(), WorklistRepository.Order.ARRIVAL, 0, 10)))
                .containsExactly("1.3", "1.2", "1.4", "1.1");
        assertThat(uids(worklist.list(Filter.all(), WorklistRepository.Order.ARRIVAL, 1, 2))).containsExactly("1.2", "1.4");
    }

    @Test
    void overdueStudiesAreTheNewOnesPastTheirPrioritysLimit() throws Exception {
        result("1.1", Priority.STAT, List.of("pneumothorax"), T0);
        result("1.2", Priority.STAT, List.of("pneumothorax"), T0.plusSeconds(600));
        result("1.3", Priority.ROUTINE, List.of(), T0);
        result("1.4", Priority.STAT, List.of("pneumothorax"), T0);
        worklist.review("1.4", "dr.house", Action.CONFIRM, null, null, T0.plusSeconds(60));
        java.util.Map<Priority, java.time.Duration> limits = java.util.Map.of(Priority.STAT, java.time.Duration.ofMinutes(15));

        assertThat(uids(worklist.overdue(limits, T0.plusSeconds(16 * 60)))).as("routine has no limit; 1.4 is reviewed")
                .containsExactly("1.1");
        assertThat(uids(worklist.overdue(limits, T0.plusSeconds(26 * 60)))).containsExactly("1.1", "1.2");
        assertThat(worklist.overdue(java.util.Map.of(), T0.plusSeconds(3600))).isEmpty();
    }

    private WorklistRepository.Change result(String study, Priority priority, List<String> causes, Instant at)
            throws Exception {
        return database.transaction(c -> WorklistRepository.resultRecorded(c, study, priority, causes, at));
    }

    private static List<String> uids(List<Entry> entries) {
        return entries.stream().map(Entry::studyInstanceUid).toList();
    }
}
