package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.cttriage.core.dicom.net.DimseStatus;
import org.cttriage.core.dicom.sr.SrOptions;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SeriesTriage#select}, the study-level step, over real files ingested into the node's
 * H2 schema, without Camel: one series chosen by the selection rules, every other one marked
 * NOT_TRIAGED with its verdict; a study where none qualifies has each series' reason.
 */
class StudySelectionTest {
    @TempDir
    Path dir;

    private ExecutorService pool;
    private NodeDatabase database;
    private InstanceIngest ingest;
    private SeriesTriage triage;

    @BeforeEach
    void setUp() throws Exception {
        pool = Executors.newFixedThreadPool(2);
        database = TestDatabases.migratedH2(dir);
        ingest = new InstanceIngest(database, dir.resolve("spool"), NonCtPolicy.IGNORE,
                DuplicatePolicy.IGNORE_IDENTICAL_KEEP_NEWER, Clock.systemUTC());
        // select() needs no engine: selection only.
        triage = new SeriesTriage(database, null, SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool,
                SrOptions.defaults(), dir.resolve("results"), List.of("PACS"), Clock.systemUTC());
    }

    @AfterEach
    void tearDown() {
        pool.shutdownNow();
    }

    @Test
    void theRulesChooseOneSeriesAndEveryOtherSaysWhyNot() throws Exception {
        CtSeriesWriter.WrittenSeries thinSoft = receive(2.5, 50, 1, "STANDARD");
        CtSeriesWriter.WrittenSeries thinLung = receive(2.5, 50, 2, "LUNG");
        CtSeriesWriter.WrittenSeries thick = receive(5.0, 25, 3, "STANDARD");

        SeriesTriage.StudySelection selection = triage.select(thinSoft.studyInstanceUid());

        assertThat(selection.chosen()).isEqualTo(new SeriesKey(thinSoft.studyInstanceUid(), thinSoft.seriesInstanceUid()));
        assertThat(state(thinSoft)).isEqualTo("RECEIVING");
        assertThat(state(thinLung)).isEqualTo("NOT_TRIAGED");
        assertThat(reason(thinLung)).startsWith(ErrorCode.NOT_PREFERRED.code()).contains("soft-tissue kernel");
        assertThat(state(thick)).isEqualTo("NOT_TRIAGED");
        assertThat(reason(thick)).startsWith(ErrorCode.NOT_PREFERRED.code()).contains("thinner");
    }

    @Test
    void whenNoSeriesQualifiesEachKeepsItsReason() throws Exception {
        CtSeriesWriter.WrittenSeries tooShort = receive(5.0, 3, 1, "STANDARD");

        SeriesTriage.StudySelection selection = triage.select(tooShort.studyInstanceUid());

        assertThat(selection.chosen()).isNull();
        assertThat(state(tooShort)).isEqualTo("NOT_TRIAGED");
        assertThat(reason(tooShort)).startsWith(ErrorCode.TOO_FEW_SLICES.code());
        assertThat(triage.noSeriesQualifies(selection)).isInstanceOf(SeriesTriage.NotTriaged.class);
    }

    private CtSeriesWriter.WrittenSeries receive(double spacingMm, int slices, int number, String kernel)
            throws Exception {
        CtSeriesWriter.WrittenSeries s = new CtSeriesWriter().write(new PhantomGenerator().generate(new PhantomSpec(51,
                        32, 32, slices, 400.0 / 32, spacingMm, spacingMm, ContrastPhase.NONE, Set.of(), false)),
                SeriesWriteOptions.defaults().withSeries(number, "series " + number, kernel),
                dir.resolve("series-" + number));
        for (Path f : s.files()) {
            assertThat(ingest.ingest(Received.of(dir, f)).status()).isEqualTo(DimseStatus.SUCCESS);
        }
        return s;
    }

    private String state(CtSeriesWriter.WrittenSeries s) throws Exception {
        return column("state", s);
    }

    private String reason(CtSeriesWriter.WrittenSeries s) throws Exception {
        return column("reason", s);
    }

    private String column(String name, CtSeriesWriter.WrittenSeries s) throws Exception {
        return database.transaction(c -> {
            try (PreparedStatement st = c.prepareStatement("SELECT " + name + " FROM node_series WHERE series_uid = ?")) {
                st.setString(1, s.seriesInstanceUid());
                try (ResultSet r = st.executeQuery()) {
                    return r.next() ? r.getString(1) : null;
                }
            }
        });
    }
}
