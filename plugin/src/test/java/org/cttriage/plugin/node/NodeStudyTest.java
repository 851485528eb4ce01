package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue "One result per study": a CT study sent as three reconstructions (thin soft tissue, thin
 * lung kernel, thick) on one association gets exactly one SR, for the series the selection rules
 * choose, and the other two carry their reasons. Before, each series was triaged on its own and
 * the study got three SRs.
 */
@RequiresTools({"storescu", "storescp"})
class NodeStudyTest {
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static InferenceEngine engine;
    private static ExecutorService pool;

    @TempDir
    Path dir;

    private NodeHarness harness;

    @BeforeAll
    static void openEngine() throws Exception {
        engine = SharedEngine.cpu();
        pool = SharedEngine.pool();
    }

    @BeforeEach
    void start() throws Exception {
        harness = NodeHarness.start(dir, engine, pool);
    }

    @AfterEach
    void stop() throws Exception {
        harness.close();
    }

    @Test
    void threeReconstructionsOfAStudyGetOneSrForTheChosenSeries() throws Exception {
        CtSeriesWriter.WrittenSeries thinSoft = write(2.5, 1, "thin soft tissue", "STANDARD");
        CtSeriesWriter.WrittenSeries thinLung = write(2.5, 2, "thin lung", "LUNG");
        CtSeriesWriter.WrittenSeries thick = write(5.0, 3, "thick", "STANDARD");
        assertThat(List.of(thinLung.studyInstanceUid(), thick.studyInstanceUid()))
                .containsOnly(thinSoft.studyInstanceUid());
        List<Path> all = new ArrayList<>(thick.files());
        all.addAll(thinLung.files());
        all.addAll(thinSoft.files());
        assertThat(harness.storescu(all).exitCode()).isZero();

        List<Path> srs = Eventually.await(WAIT, "an SR at the PACS", harness::srFiles, l -> !l.isEmpty());
        Eventually.await(WAIT, "every series of the study decided",
                () -> harness.rows("SELECT COUNT(*) FROM node_series WHERE state = 'RECEIVING'"), n -> n == 0);
        assertThat(harness.srFiles()).hasSize(1);
        assertThat(harness.rows("SELECT COUNT(*) FROM node_result")).isEqualTo(1);
        assertThat(harness.first("SELECT series_uid FROM node_result WHERE study_uid = ?", thinSoft.studyInstanceUid()))
                .isEqualTo(thinSoft.seriesInstanceUid());
        assertThat(harness.first("SELECT state FROM node_series WHERE series_uid = ?", thinSoft.seriesInstanceUid()))
                .isEqualTo("TRIAGED");
        assertThat(harness.first("SELECT reason FROM node_series WHERE series_uid = ?", thinSoft.seriesInstanceUid()))
                .startsWith("selected:");
        for (CtSeriesWriter.WrittenSeries other : List.of(thinLung, thick)) {
            assertThat(harness.first("SELECT state FROM node_series WHERE series_uid = ?", other.seriesInstanceUid()))
                    .isEqualTo("NOT_TRIAGED");
            assertThat(harness.first("SELECT reason FROM node_series WHERE series_uid = ?", other.seriesInstanceUid()))
                    .startsWith(ErrorCode.NOT_PREFERRED.code());
        }
        assertThat(NodeHarness.studyOf(srs.get(0))).isEqualTo(thinSoft.studyInstanceUid());
        // What the exporters need is recorded with the result, not read back from the SR file.
        assertThat(harness.first("SELECT source_json FROM node_result WHERE study_uid = ?", thinSoft.studyInstanceUid()))
                .contains("\"StudyInstanceUID\":\"" + thinSoft.studyInstanceUid() + "\"").contains("\"PatientID\":")
                .contains("\"AccessionNumber\":");
    }

    private CtSeriesWriter.WrittenSeries write(double spacingMm, int number, String description, String kernel)
            throws Exception {
        int slices = (int) Math.round(150 / spacingMm);
        Phantom p = new PhantomGenerator().generate(new PhantomSpec(41, 64, 64, slices, 400.0 / 64, spacingMm,
                spacingMm, ContrastPhase.NONE, Set.of(), false));
        return new CtSeriesWriter().write(p, SeriesWriteOptions.defaults().withSeries(number, description, kernel),
                dir.resolve("series-" + number));
    }
}
