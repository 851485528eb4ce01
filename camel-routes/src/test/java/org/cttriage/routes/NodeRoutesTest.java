package org.cttriage.routes;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.builder.AdviceWith;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.processor.aggregate.jdbc.JdbcAggregationRepository;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.cttriage.core.dicom.net.DimseStatus;
import org.cttriage.core.dicom.sr.SrOptions;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.inference.EngineOptions;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.inference.ModelPackage;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryScheduler;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.DuplicatePolicy;
import org.cttriage.core.node.Exporter;
import org.cttriage.core.node.InstanceIngest;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.core.node.NonCtPolicy;
import org.cttriage.core.node.Received;
import org.cttriage.core.node.RetryPolicy;
import org.cttriage.core.node.SeriesTriage;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.routes.dicom.DicomConstants;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

/**
 * {@link NodeRoutes} with Camel's test kit and no network: the listener is a {@code direct:} endpoint that is
 * handed received instances as the {@code dicom:} consumer hands them, the steps are the real core classes over
 * H2, and the one destination is a recording exporter. {@link NotifyBuilder} waits for the triage route;
 * {@link AdviceWith} weaves its steps by their stable ids.
 */
class NodeRoutesTest extends CamelTestSupport {
    private static final Path PACKAGE = Path.of(System.getProperty("ctglip.package", "../models/ctglip-ref"));
    private static InferenceEngine engine;
    private static ExecutorService pool;

    @TempDir
    Path dir;

    private JdbcConnectionPool dataSource;
    private InstanceIngest ingest;
    private DeliveryLedger ledger;
    private DeliveryScheduler deliveries;
    private final List<Long> exported = Collections.synchronizedList(new ArrayList<>());

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

    @Override
    public boolean isUseAdviceWith() {
        return true;
    }

    @Override
    protected RoutesBuilder createRouteBuilder() throws Exception {
        dataSource = JdbcConnectionPool.create("jdbc:h2:" + dir.resolve("db/node").toAbsolutePath(), "sa", "");
        NodeDatabase database = new NodeDatabase(dataSource);
        database.migrate();
        Clock clock = Clock.systemUTC();
        ledger = new DeliveryLedger(database, clock);
        ingest = new InstanceIngest(database, dir.resolve("spool"), NonCtPolicy.IGNORE,
                DuplicatePolicy.IGNORE_IDENTICAL_KEEP_NEWER, clock);
        SeriesTriage triage = new SeriesTriage(database, engine, SelectionPolicy.defaults(), AssemblyPolicy.defaults(),
                pool, SrOptions.defaults(), dir.resolve("results"), List.of("pacs"), clock);
        Exporter recording = d -> {
            exported.add(d.id());
            return new Exporter.Attempt.Delivered("recorded");
        };
        deliveries = new DeliveryScheduler(ledger, List.of(new DeliveryScheduler.Lane("pacs", recording,
                new RetryPolicy(3, Duration.ofMillis(100), 2.0, Duration.ofSeconds(1)))), clock);
        JdbcAggregationRepository aggregation = new JdbcAggregationRepository(
                new DataSourceTransactionManager(dataSource), "series_aggregation", dataSource);
        return new NodeRoutes(new NodeRoutes.Settings("CTTRIAGE", context.getEndpoint("direct:listen"),
                Duration.ofSeconds(1)), ingest, triage, deliveries, aggregation, clock);
    }

    @Override
    public void doPostTearDown() throws Exception {
        if (deliveries != null) {
            deliveries.close();
        }
        if (ingest != null) {
            ingest.close();
        }
        if (dataSource != null) {
            dataSource.dispose();
        }
    }

    @Test
    void aQuietStudyIsTriagedOnceAndItsDeliveryGoesToItsLane() throws Exception {
        context.start();
        NotifyBuilder triaged = new NotifyBuilder(context).fromRoute("triage").whenCompleted(1).create();

        List<Path> files = PhantomSeries.write(11, 64, 30, 10, dir.resolve("ct")).files();
        for (Path f : files) {
            Object status = template.request("direct:listen", e -> e.getIn().setBody(Received.of(dir, f)))
                    .getMessage().getHeader(DicomConstants.DIMSE_STATUS);
            assertThat(status).isEqualTo(DimseStatus.SUCCESS);
        }

        assertThat(triaged.matches(90, TimeUnit.SECONDS)).as("the study triaged after its quiet period").isTrue();
        DeliveryLedger.Delivery d = awaitDelivered();
        assertThat(d.destination()).isEqualTo("pacs");
        assertThat(exported).containsExactly(d.id());
        assertThat(count("SELECT COUNT(*) FROM node_result")).isEqualTo(1);
        assertThat(count("SELECT COUNT(*) FROM node_series WHERE state = 'TRIAGED'")).isEqualTo(1);
    }

    @Test
    void aFailingStepEndsTheStudyNotTriagedOnceWithNothingToDeliver() throws Exception {
        AdviceWith.adviceWith(context, "triage", route -> route.weaveById("inference").replace().process(e -> {
            throw new IllegalStateException("the model failed");
        }));
        context.start();
        NotifyBuilder done = new NotifyBuilder(context).fromRoute("triage").whenDone(1).create();

        for (Path f : PhantomSeries.write(12, 64, 30, 10, dir.resolve("ct")).files()) {
            template.sendBody("direct:listen", Received.of(dir, f));
        }

        assertThat(done.matches(90, TimeUnit.SECONDS)).isTrue();
        assertThat(count("SELECT COUNT(*) FROM node_series WHERE state = 'NOT_TRIAGED' AND reason LIKE '"
                + ErrorCode.TRIAGE_FAILED.code() + "%'")).as("NOT_TRIAGED with its code").isEqualTo(1);
        assertThat(count("SELECT COUNT(*) FROM node_result")).isZero();
        assertThat(count("SELECT COUNT(*) FROM node_delivery")).isZero();
        assertThat(exported).isEmpty();
    }

    private DeliveryLedger.Delivery awaitDelivered() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            List<DeliveryLedger.Delivery> done = ledger.inState(DeliveryState.DELIVERED);
            if (!done.isEmpty()) {
                return done.get(0);
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no delivery done; pending: " + ledger.inState(DeliveryState.PENDING));
    }

    private int count(String sql) throws Exception {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql);
             ResultSet r = s.executeQuery()) {
            r.next();
            return r.getInt(1);
        }
    }
}
