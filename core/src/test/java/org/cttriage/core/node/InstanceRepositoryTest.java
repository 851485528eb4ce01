package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.cttriage.core.dicom.net.ReceivedInstance;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.InstanceRepository.Instance;
import org.cttriage.core.node.InstanceRepository.Recorded;
import org.cttriage.core.node.InstanceRepository.Row;
import org.cttriage.core.node.InstanceRepository.Spooled;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link InstanceRepository} on the node's H2 schema, with real rows. */
class InstanceRepositoryTest {
    private static final String CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2";
    private static final String EXPLICIT_LE = "1.2.840.10008.1.2.1";
    private static final Timestamp T0 = Timestamp.from(Instant.parse("2026-11-02T08:00:00Z"));
    private static final SeriesKey SERIES_A = new SeriesKey("1.2.3", "1.2.3.1");
    private static final SeriesKey SERIES_B = new SeriesKey("1.2.3", "1.2.3.2");
    private static final SeriesKey OTHER_STUDY = new SeriesKey("1.2.4", "1.2.4.1");

    @TempDir
    Path dir;

    private NodeDatabase database;
    private InstanceRepository instances;

    @BeforeEach
    void setUp() throws Exception {
        database = TestDatabases.migratedH2(dir);
        instances = new InstanceRepository(database);
    }

    @Test
    void newRowsAndAReplacementAreWrittenAndReadBack() throws Exception {
        write(row(SERIES_B, "1.2.3.2.7", null), row(SERIES_A, "1.2.3.1.9", null), row(SERIES_A, "1.2.3.1.2", null),
                row(OTHER_STUDY, "1.2.4.1.1", null));

        Recorded first = find("1.2.3.1.9");
        assertThat(first).isEqualTo(new Recorded(path(SERIES_A, "1.2.3.1.9"), 1, true, null));
        assertThat(find("1.2.3.1.5")).as("never received").isNull();

        Path replacement = dir.resolve("elsewhere/1.2.3.1.9.dcm");
        write(new Row(received("1.2.3.1.9", "RESENDER"), SERIES_A, replacement, first));

        assertThat(find("1.2.3.1.9")).isEqualTo(new Recorded(replacement, 2, true, null));
        assertThat(instances.ofSeries(SERIES_A)).containsExactly(
                new Instance("1.2.3.1.2", 1, path(SERIES_A, "1.2.3.1.2"), true),
                new Instance("1.2.3.1.9", 2, replacement, true));
        assertThat(instances.sopInstanceUids())
                .containsExactlyInAnyOrder("1.2.3.1.2", "1.2.3.1.9", "1.2.3.2.7", "1.2.4.1.1");
        assertThat(spooledFilesOfStudy("1.2.3"))
                .as("ordered by series, then SOP Instance UID; the other study left out")
                .containsExactly(path(SERIES_A, "1.2.3.1.2"), replacement, path(SERIES_B, "1.2.3.2.7"));
    }

    @Test
    void removalFromTheSpoolKeepsTheRowWithItsHashUntilTheSameBytesComeBack() throws Exception {
        write(row(SERIES_A, "1.2.3.1.1", null), row(SERIES_A, "1.2.3.1.2", null), row(SERIES_B, "1.2.3.2.1", null));
        List<Spooled> spooled = instances.spooled(SERIES_A);
        assertThat(spooled).containsExactlyInAnyOrder(new Spooled("1.2.3.1.1", 1, path(SERIES_A, "1.2.3.1.1")),
                new Spooled("1.2.3.1.2", 1, path(SERIES_A, "1.2.3.1.2")));
        List<Spooled> ordered = spooled.stream().sorted((x, y) -> x.sopInstanceUid().compareTo(y.sopInstanceUid()))
                .toList();

        database.transaction(c -> {
            InstanceRepository.removedFromSpool(c, ordered, Arrays.asList("ab".repeat(32), null));
            return null;
        });

        assertThat(instances.spooled(SERIES_A)).isEmpty();
        assertThat(instances.spooled(SERIES_B)).hasSize(1);
        assertThat(find("1.2.3.1.1")).isEqualTo(new Recorded(path(SERIES_A, "1.2.3.1.1"), 1, false, "ab".repeat(32)));
        assertThat(find("1.2.3.1.2")).as("file already gone: no hash")
                .isEqualTo(new Recorded(path(SERIES_A, "1.2.3.1.2"), 1, false, null));
        assertThat(instances.ofSeries(SERIES_A)).extracting(Instance::spooled).containsExactly(false, false);
        assertThat(spooledFilesOfStudy("1.2.3"))
                .containsExactly(path(SERIES_B, "1.2.3.2.1"));

        Path back = dir.resolve("spool-again/1.2.3.1.1.dcm");
        database.transaction(c -> {
            try (NodeDatabase.Statements s = new NodeDatabase.Statements(c, false)) {
                InstanceRepository.backInSpool(s, "1.2.3.1.1", back);
            }
            return null;
        });

        assertThat(find("1.2.3.1.1")).as("same revision: the input is unchanged")
                .isEqualTo(new Recorded(back, 1, true, null));
    }

    @Test
    void aRemovalOfARowThatChangedMeanwhileFailsAndMarksNothing() throws Exception {
        write(row(SERIES_A, "1.2.3.1.1", null), row(SERIES_A, "1.2.3.1.2", null));
        List<Spooled> before = new ArrayList<>(instances.spooled(SERIES_A));
        before.sort((x, y) -> x.sopInstanceUid().compareTo(y.sopInstanceUid()));
        // The second instance is received again with other bytes: revision 2.
        write(new Row(received("1.2.3.1.2", "STORESCU"), SERIES_A, path(SERIES_A, "1.2.3.1.2"), find("1.2.3.1.2")));

        assertThatThrownBy(() -> database.transaction(c -> {
            InstanceRepository.removedFromSpool(c, before, Arrays.asList("aa".repeat(32), "bb".repeat(32)));
            return null;
        })).isInstanceOf(TriageException.class).hasMessageContaining("1.2.3.1.2 changed meanwhile");

        assertThat(instances.spooled(SERIES_A)).as("rolled back, the first one included").hasSize(2);
    }

    private void write(Row... rows) throws Exception {
        database.transaction(c -> {
            try (NodeDatabase.Statements s = new NodeDatabase.Statements(c, false)) {
                InstanceRepository.write(s, List.of(rows), T0);
            }
            return null;
        });
    }

    private List<Path> spooledFilesOfStudy(String studyInstanceUid) throws Exception {
        return database.transaction(c -> InstanceRepository.spooledFilesOfStudy(c, studyInstanceUid));
    }

    private Recorded find(String sopInstanceUid) throws Exception {
        return database.transaction(c -> {
            try (NodeDatabase.Statements s = new NodeDatabase.Statements(c, false)) {
                return InstanceRepository.find(s, sopInstanceUid);
            }
        });
    }

    private Row row(SeriesKey series, String sopInstanceUid, Recorded previous) {
        return new Row(received(sopInstanceUid, "STORESCU"), series, path(series, sopInstanceUid), previous);
    }

    private ReceivedInstance received(String sopInstanceUid, String callingAeTitle) {
        return new ReceivedInstance(dir.resolve("incoming").resolve(sopInstanceUid + ".part"), CT_IMAGE, sopInstanceUid,
                EXPLICIT_LE, callingAeTitle, null, 1000);
    }

    private Path path(SeriesKey series, String sopInstanceUid) {
        return dir.resolve("spool").resolve(series.studyInstanceUid()).resolve(series.seriesInstanceUid())
                .resolve(sopInstanceUid + ".dcm");
    }
}
