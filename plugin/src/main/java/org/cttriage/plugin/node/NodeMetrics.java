package org.cttriage.plugin.node;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.InstanceRepository;
import org.cttriage.core.node.ResultRepository;
import org.cttriage.core.node.SeriesRepository;
import org.cttriage.core.node.SeriesState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's metrics for {@code GET /metrics} (Prometheus text format, Micrometer): what the node has received,
 * decided and delivered, read from its database — the source of truth, so the figures survive restarts and agree
 * with {@code studies list} — plus JVM and process metrics. The database is read at most once per
 * {@link #REFRESH} however many meters a scrape reads. Names follow Prometheus conventions ({@code _total} for
 * counters, base units, {@code cttriage_} prefix). No patient data: counts and ages only.
 */
public final class NodeMetrics {
    /** How long one reading of the database serves scrapes. */
    static final Duration REFRESH = Duration.ofSeconds(5);
    private static final Logger LOG = LoggerFactory.getLogger(NodeMetrics.class);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final TriageNode node;
    private final Clock clock;
    private volatile Snapshot snapshot;

    /** One reading of the database. */
    private record Snapshot(Instant at, InstanceRepository.Totals instances, Map<SeriesState, Integer> series,
            Map<String, Integer> results, DeliveryLedger.Totals deliveries, boolean ok) {
    }

    public NodeMetrics(TriageNode node, Clock clock) {
        this.node = node;
        this.clock = clock;
        SeriesRepository series = new SeriesRepository(node.database());
        InstanceRepository instances = new InstanceRepository(node.database());
        ResultRepository results = new ResultRepository(node.database());
        this.snapshot = read(series, instances, results);
        FunctionCounter.builder("cttriage_instances_received", this, m -> m.current(series, instances, results)
                        .instances().instances())
                .description("DICOM instances the node has recorded (persisted before Success was answered)")
                .register(registry);
        FunctionCounter.builder("cttriage_received_bytes", this, m -> m.current(series, instances, results)
                        .instances().bytes())
                .description("Bytes of the instances the node has recorded").baseUnit("bytes").register(registry);
        for (SeriesState state : SeriesState.values()) {
            Gauge.builder("cttriage_series", this, m -> m.current(series, instances, results).series()
                            .getOrDefault(state, 0))
                    .description("Series by state: receiving, triaged, not triaged (with a reason)")
                    .tag("state", state.name().toLowerCase(java.util.Locale.ROOT)).register(registry);
        }
        for (String priority : java.util.List.of("routine", "urgent", "asap", "stat")) {
            FunctionCounter.builder("cttriage_results", this, m -> m.current(series, instances, results).results()
                            .getOrDefault(priority, 0))
                    .description("Triage results recorded (superseded ones included), by suggested priority")
                    .tag("priority", priority).register(registry);
        }
        for (DeliveryState state : DeliveryState.values()) {
            Gauge.builder("cttriage_deliveries", this, m -> m.current(series, instances, results).deliveries()
                            .byState().getOrDefault(state, 0))
                    .description("Deliveries (result x destination) by state; dead = dead letters")
                    .tag("state", state.name().toLowerCase(java.util.Locale.ROOT)).register(registry);
        }
        Gauge.builder("cttriage_delivery_oldest_pending_age", this, m -> m.current(series, instances, results)
                        .deliveries().oldestPending()
                        .map(t -> Duration.between(t, m.clock.instant()).toMillis() / 1000.0).orElse(0.0))
                .description("Seconds since the result of the oldest pending delivery was recorded (0: none pending)")
                .baseUnit("seconds").register(registry);
        Gauge.builder("cttriage_database_up", this, m -> m.current(series, instances, results).ok() ? 1 : 0)
                .description("1 when the last reading of the node's database succeeded").register(registry);
        Gauge.builder("cttriage_data_free", this, NodeMetrics::freeBytes)
                .description("Usable bytes on the data folder's file system; associations are refused below "
                        + "dicom.min-free-disk-mb").baseUnit("bytes").register(registry);
        Gauge.builder("cttriage_data_free_min", this, m -> m.node.config().minFreeDiskBytes())
                .description("The watermark below which associations are refused").baseUnit("bytes")
                .register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }

    private synchronized Snapshot current(SeriesRepository series, InstanceRepository instances,
            ResultRepository results) {
        if (Duration.between(snapshot.at(), clock.instant()).compareTo(REFRESH) >= 0) {
            snapshot = read(series, instances, results);
        }
        return snapshot;
    }

    private Snapshot read(SeriesRepository series, InstanceRepository instances, ResultRepository results) {
        try {
            return new Snapshot(clock.instant(), instances.totals(), series.countsByState(),
                    results.countsByPriority(false), node.ledger().totals(), true);
        } catch (TriageException | RuntimeException e) {
            LOG.warn("metrics: the database could not be read: {}", e.getMessage());
            Snapshot last = snapshot;
            return last == null
                    ? new Snapshot(clock.instant(), new InstanceRepository.Totals(0, 0), Map.of(), Map.of(),
                            new DeliveryLedger.Totals(Map.of(), java.util.Optional.empty()), false)
                    : new Snapshot(clock.instant(), last.instances(), last.series(), last.results(), last.deliveries(),
                            false);
        }
    }

    private double freeBytes() {
        try {
            return Files.getFileStore(node.config().dataDirectory()).getUsableSpace();
        } catch (IOException e) {
            return Double.NaN;
        }
    }
}
