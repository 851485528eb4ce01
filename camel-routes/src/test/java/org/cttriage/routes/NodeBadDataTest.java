package org.cttriage.routes;

import static org.assertj.core.api.Assertions.assertThat;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.builder.AdviceWith;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.inference.EngineOptions;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.inference.ModelPackage;
import org.cttriage.core.node.NodeRecovery;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterAll;
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
    private static final Path PACKAGE = Path.of(System.getProperty("ctglip.package", "../models/ctglip-ref"));
    private static InferenceEngine engine;
    private static ExecutorService pool;

    @TempDir
    Path dir;

    private StoreScp pacs;
    private TriageNode node;
    private JdbcConnectionPool dataSource;

    @BeforeAll
    static void openEngine() throws Exception {
        engine = new InferenceEngine(ModelPackage.load(PACKAGE), EngineOptions.defaults().withDevice(EngineOptions.Device.CPU));
        pool = Executors.newFixedThreadPool(2);
    }

    @AfterAll
    static void closeEngine() {
        engine.close();
        pool.shutdownNow();
    }

    @BeforeEach
    void start() throws Exception {
        pacs = StoreScp.start("PACS", dir.resolve("pacs"));
        dataSource = JdbcConnectionPool.create("jdbc:h2:" + dir.resolve("node/db/node").toAbsolutePath(), "sa", "");
        node = startNode();
    }

    private TriageNode startNode() throws Exception {
        return TriageNode.start(TriageNode.Config.defaults("CTTRIAGE", 0, dir.resolve("node"),
                                List.of(Destination.dicom("pacs", new RemoteAe("PACS", "127.0.0.1", pacs.port()))))
                        .withQuietPeriod(Duration.ofSeconds(1)),
                dataSource, engine, SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool, Optional.empty(),
                Clock.systemUTC());
    }

    @AfterEach
    void stop() throws Exception {
        node.close();
        dataSource.dispose();
        pacs.close();
    }

    @Test
    void absurdRescaleSlopeIsRefusedA900AndNeverBecomesAnSr() throws Exception {
        List<Path> bad = PhantomSeries.write(11, 64, 30, 10, dir.resolve("bad")).files();
        for (Path f : bad) {
            edit(f, TagFromName.RescaleSlope, "1e6");
        }
        ExternalCommand.Result sent = storescu(bad);
        assertThat(sent.output()).contains("Error: DataSetDoesNotMatchSOPClass").doesNotContain("Success");
        assertThat(rows("SELECT COUNT(*) FROM node_instance")).isZero();

        // A valid study sent after it is the sentinel: once its SR is at the PACS, the bad series
        // had every chance to produce one; exactly one SR, of the good study, arrived.
        List<Path> good = PhantomSeries.write(12, 64, 30, 10, dir.resolve("good")).files();
        assertThat(storescu(good).exitCode()).isZero();
        List<Path> srs = Eventually.await(WAIT, "the good study's SR", this::srFiles, l -> l.size() == 1);
        assertThat(studyOf(srs.get(0))).isEqualTo(studyOf(good.get(0))).isNotEqualTo(studyOf(bad.get(0)));
    }

    @Test
    void aSeriesWhoseTriageThrowsEndsNotTriagedOnceAndStaysSoAfterRestart() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        AdviceWith.adviceWith(node.camel(), "triage", route -> route.weaveById("inference").replace().process(e -> {
            attempts.incrementAndGet();
            throw new IllegalStateException("singular geometry");
        }));
        List<Path> files = PhantomSeries.write(11, 64, 30, 10, dir.resolve("ct")).files();
        assertThat(storescu(files).exitCode()).isZero();

        String reason = Eventually.await(WAIT, "the series marked NOT_TRIAGED", () -> seriesReason("NOT_TRIAGED"),
                r -> r != null);
        assertThat(reason).startsWith(ErrorCode.TRIAGE_FAILED.code()).contains("IllegalStateException")
                .contains("singular geometry");
        assertThat(attempts).hasValue(1);
        assertThat(rows("SELECT COUNT(*) FROM node_result")).isZero();

        // A restart does not send it into the same failure again.
        node.close();
        assertThat(new NodeRecovery(node.database()).seriesAwaitingTriage()).isEmpty();
        node = startNode();
        assertThat(seriesReason("NOT_TRIAGED")).isEqualTo(reason);
        assertThat(attempts).hasValue(1);
        assertThat(srFiles()).isEmpty();
    }

    private String seriesReason(String state) throws Exception {
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT reason FROM node_series WHERE state = ?")) {
            s.setString(1, state);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getString(1) : null;
            }
        }
    }

    private int rows(String countQuery) throws Exception {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(countQuery);
             ResultSet r = s.executeQuery()) {
            r.next();
            return r.getInt(1);
        }
    }

    private ExternalCommand.Result storescu(List<Path> files) throws Exception {
        List<String> command = new ArrayList<>(Arrays.asList("storescu", "-v", "-aet", "STORESCU", "-aec", "CTTRIAGE",
                "127.0.0.1", Integer.toString(node.port())));
        files.forEach(f -> command.add(f.toString()));
        return ExternalCommand.run(Duration.ofSeconds(60), command);
    }

    private List<Path> srFiles() throws Exception {
        return pacs.receivedFiles().stream().filter(p -> p.getFileName().toString().startsWith("SR")).toList();
    }

    private static void edit(Path file, com.pixelmed.dicom.AttributeTag tag, String value) throws Exception {
        AttributeList list = new AttributeList();
        list.read(file.toString());
        Attribute a = list.putNewAttribute(tag);
        a.addValue(value);
        list.write(file.toFile(), TransferSyntax.ExplicitVRLittleEndian, true, true);
    }

    private static String studyOf(Path file) throws Exception {
        AttributeList list = new AttributeList();
        list.read(file.toString());
        return Attribute.getSingleStringValueOrEmptyString(list, TagFromName.StudyInstanceUID);
    }
}
