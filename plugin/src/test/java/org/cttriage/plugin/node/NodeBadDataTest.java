package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.builder.AdviceWith;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.node.NodeRecovery;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue "Hardening", defects 1 and 4, through the whole node (dcmtk storescu → node →
 * storescp): a series with an absurd Rescale Slope never becomes an SR, and a series whose
 * triage fails with any exception ends NOT_TRIAGED with a code, once, and stays so across a
 * restart. Before, the first produced an urgent SR with findings "Present" and the second
 * was re-submitted about once a second for ever.
 */
@RequiresTools({"storescu", "storescp"})
class NodeBadDataTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
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
    void absurdRescaleSlopeIsRefusedA900AndNeverBecomesAnSr() throws Exception {
        List<Path> bad = PhantomSeries.write(11, 64, 30, 10, dir.resolve("bad")).files();
        for (Path f : bad) {
            edit(f, TagFromName.RescaleSlope, "1e6");
        }
        ExternalCommand.Result sent = harness.storescu(bad);
        assertThat(sent.output()).contains("Error: DataSetDoesNotMatchSOPClass").doesNotContain("Success");
        assertThat(harness.rows("SELECT COUNT(*) FROM node_instance")).isZero();

        // A valid study sent after it is the sentinel: once its SR is at the PACS, the bad series
        // had every chance to produce one; exactly one SR, of the good study, arrived.
        List<Path> good = PhantomSeries.write(12, 64, 30, 10, dir.resolve("good")).files();
        assertThat(harness.storescu(good).exitCode()).isZero();
        List<Path> srs = Eventually.await(WAIT, "the good study's SR", harness::srFiles, l -> l.size() == 1);
        assertThat(NodeHarness.studyOf(srs.get(0))).isEqualTo(NodeHarness.studyOf(good.get(0)))
                .isNotEqualTo(NodeHarness.studyOf(bad.get(0)));
    }

    @Test
    void aSeriesWhoseTriageThrowsEndsNotTriagedOnceAndStaysSoAfterRestart() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        AdviceWith.adviceWith(harness.node().camel(), "triage", route -> route.weaveById("inference").replace().process(e -> {
            attempts.incrementAndGet();
            throw new IllegalStateException("singular geometry");
        }));
        List<Path> files = PhantomSeries.write(11, 64, 30, 10, dir.resolve("ct")).files();
        assertThat(harness.storescu(files).exitCode()).isZero();

        String reason = Eventually.await(WAIT, "the series marked NOT_TRIAGED", () -> seriesReason("NOT_TRIAGED"),
                r -> r != null);
        assertThat(reason).startsWith(ErrorCode.TRIAGE_FAILED.code()).contains("IllegalStateException")
                .contains("singular geometry");
        assertThat(attempts).hasValue(1);
        assertThat(harness.rows("SELECT COUNT(*) FROM node_result")).isZero();

        // A restart does not send it into the same failure again.
        assertThat(new NodeRecovery(harness.node().database()).seriesAwaitingTriage()).isEmpty();
        harness.restart();
        assertThat(seriesReason("NOT_TRIAGED")).isEqualTo(reason);
        assertThat(attempts).hasValue(1);
        assertThat(harness.srFiles()).isEmpty();
    }

    private String seriesReason(String state) throws Exception {
        return harness.first("SELECT reason FROM node_series WHERE state = ?", state);
    }

    private static void edit(Path file, com.pixelmed.dicom.AttributeTag tag, String value) throws Exception {
        AttributeList list = new AttributeList();
        list.read(file.toString());
        Attribute a = list.putNewAttribute(tag);
        a.addValue(value);
        list.write(file.toFile(), TransferSyntax.ExplicitVRLittleEndian, true, true);
    }
}
