package org.cttriage.plugin.node;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
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
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.camel.component.micrometer.routepolicy.MicrometerRoutePolicyFactory;
import org.apache.camel.spi.RoutePolicyFactory;
import org.cttriage.core.dicom.net.AssociationDecision;
import org.cttriage.core.dicom.net.AssociationListener;
import org.cttriage.core.dicom.net.AssociationRequest;
import org.cttriage.core.dicom.net.DimseStatus;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.InstanceRepository;
import org.cttriage.core.node.NodeObserver;
import org.cttriage.core.node.Outbox;
import org.cttriage.core.node.ResultRepository;
import org.cttriage.core.node.SeriesRepository;
import org.cttriage.core.node.SeriesState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's metrics for {@code GET /metrics} (Prometheus text format, Micrometer), from two sources:
 * <ul>
 * <li>what the node has received, decided and delivered, read from its database — the source of truth, so
 * these figures survive restarts and agree with {@code studies list}; the database is read at most once per
 * {@link #REFRESH} however many meters a scrape reads ({@link #bind});</li>
 * <li>what happens in this process, counted as it happens: associations, C-STORE answers, triage latency and
 * inference time, delivery attempts and dead letters (this class observes the listener and the node), queue
 * depths, Camel's route metrics ({@link #routePolicy()}), JVM and process metrics.</li>
 * </ul>
 * Names follow Prometheus conventions ({@code _total} for counters, base units, {@code cttriage_} prefix). No
 * patient data: counts, states, durations and configured destination names only.
 */
public final class NodeMetrics implements NodeObserver, AssociationListener {
    /** How long one reading of the database serves scrapes. */
    static final Duration REFRESH = Duration.ofSeconds(5);
    /** Triage latency buckets: the quiet period (30 s by default) plus triage, up to the stuck-delivery scale. */
    static final Duration[] LATENCY_BUCKETS = {Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(20),
        Duration.ofSeconds(30), Duration.ofSeconds(45), Duration.ofSeconds(60), Duration.ofSeconds(90),
        Duration.ofMinutes(2), Duration.ofMinutes(5), Duration.ofMinutes(10), Duration.ofMinutes(30)};
    /** Inference buckets: a CPU series takes seconds, a GPU one well under a second. */
    static final Duration[] INFERENCE_BUCKETS = {Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
        Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10),
        Duration.ofSeconds(30), Duration.ofSeconds(60)};
    /** Delivery attempt buckets: a C-STORE or a FHIR transaction, up to the exporters' timeouts. */
    static final Duration[] ATTEMPT_BUCKETS = {Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5),
        Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60)};
    private static final Logger LOG = LoggerFactory.getLogger(NodeMetrics.class);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Clock clock;
    private final Counter accepted;
    private final Map<String, Counter> rejected = new ConcurrentHashMap<>();
    private final Map<DimseStatus, Counter> storeAnswers = new EnumMap<>(DimseStatus.class);
    private final Counter partialDiscarded;
    private final Timer triageLatency;
    private final Timer inference;
    private final Map<List<String>, Counter> attempts = new ConcurrentHashMap<>();
    private final Map<List<String>, Counter> deadLetters = new ConcurrentHashMap<>();
    private final Map<String, Timer> attemptTimes = new ConcurrentHashMap<>();
    private volatile TriageNode node;
    private volatile Snapshot snapshot;
    private NodeHealth.Report health;
    private Instant healthAt;

    /** One reading of the database. */
    private record Snapshot(Instant at, InstanceRepository.Totals instances, Map<SeriesState, Integer> series,
            Map<String, Integer> results, DeliveryLedger.Totals deliveries, boolean ok) {
    }

    /** The process's meters; the database's are added by {@link #bind} once the node runs. */
    public NodeMetrics(Clock clock) {
        this.clock = clock;
        // Camel's route meters label in camelCase; Prometheus' convention (and promtool's lint) is snake_case.
        for (String[] rename : new String[][] {{"camelContext", "camel_context"}, {"routeId", "route_id"},
            {"eventType", "event_type"}, {"nodeId", "node_id"}, {"endpointName", "endpoint_name"},
            {"failureHandled", "failure_handled"}}) {
            registry.config().meterFilter(MeterFilter.renameTag("camel", rename[0], rename[1]));
        }
        accepted = Counter.builder("cttriage_associations_accepted").description("DICOM associations accepted")
                .register(registry);
        for (String reason : List.of("calling_ae_not_recognized", "called_ae_not_recognized",
                "protocol_version_not_supported", "temporary_congestion", "local_limit_exceeded", "other")) {
            rejected.put(reason, Counter.builder("cttriage_associations_rejected")
                    .description("DICOM associations rejected (A-ASSOCIATE-RJ), by reason").tag("reason", reason)
                    .register(registry));
        }
        for (DimseStatus status : DimseStatus.values()) {
            storeAnswers.put(status, Counter.builder("cttriage_cstore_responses")
                    .description("C-STORE responses sent, by status (PS3.4 B.2.3)")
                    .tag("status", status.name().toLowerCase(Locale.ROOT)).tag("code", status.hex())
                    .register(registry));
        }
        partialDiscarded = Counter.builder("cttriage_cstore_partial_discarded")
                .description("C-STORE data sets cut off by the end of their association: discarded, never acknowledged")
                .register(registry);
        triageLatency = Timer.builder("cttriage_triage_latency")
                .description("From a study's last instance recorded to its SR written (quiet period included)")
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
        inference = Timer.builder("cttriage_inference_duration")
                .description("The model's time for one series: preprocessing, encoders, scoring")
                .serviceLevelObjectives(INFERENCE_BUCKETS).register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    /** Observers to start the node with, so that this counts every association, result and attempt. */
    public TriageNode.Observers observers() {
        return new TriageNode.Observers(List.of(this), List.of(this), List.of(routePolicy()));
    }

    /** Camel's per-route meters (exchanges, failures, processing time) on this registry. */
    public RoutePolicyFactory routePolicy() {
        MicrometerRoutePolicyFactory factory = new MicrometerRoutePolicyFactory();
        factory.setMeterRegistry(registry);
        return factory;
    }

    /** Adds the meters read from the running node's database and its queues. */
    public synchronized void bind(TriageNode running) {
        if (node != null) {
            throw new IllegalStateException("already bound to a node");
        }
        this.node = running;
        SeriesRepository series = new SeriesRepository(running.database());
        InstanceRepository instances = new InstanceRepository(running.database());
        ResultRepository results = new ResultRepository(running.database());
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
                    .tag("state", state.name().toLowerCase(Locale.ROOT)).register(registry);
        }
        for (String priority : List.of("routine", "urgent", "asap", "stat")) {
            FunctionCounter.builder("cttriage_results", this, m -> m.current(series, instances, results).results()
                            .getOrDefault(priority, 0))
                    .description("Triage results recorded (superseded ones included), by suggested priority")
                    .tag("priority", priority).register(registry);
        }
        for (Destination d : running.config().destinations()) {
            for (DeliveryState state : DeliveryState.values()) {
                Gauge.builder("cttriage_deliveries", this, m -> m.current(series, instances, results).deliveries()
                                .byDestination().getOrDefault(d.name(), Map.of()).getOrDefault(state, 0))
                        .description("Deliveries (result x destination) by destination, kind and state; "
                                + "dead = dead letters")
                        .tag("destination", d.name()).tag("kind", kind(d))
                        .tag("state", state.name().toLowerCase(Locale.ROOT)).register(registry);
            }
            Gauge.builder("cttriage_delivery_lane_depth", this, m -> m.node.deliveryLaneDepths()
                            .getOrDefault(d.name(), 0))
                    .description("Delivery attempts claimed and queued on the destination's lane, not yet finished")
                    .tag("destination", d.name()).tag("kind", kind(d)).register(registry);
        }
        Gauge.builder("cttriage_delivery_oldest_pending_age", this, m -> m.current(series, instances, results)
                        .deliveries().oldestPending()
                        .map(t -> Duration.between(t, m.clock.instant()).toMillis() / 1000.0).orElse(0.0))
                .description("Seconds since the result of the oldest pending delivery was recorded (0: none pending)")
                .baseUnit("seconds").register(registry);
        Gauge.builder("cttriage_database_up", this, m -> m.current(series, instances, results).ok() ? 1 : 0)
                .description("1 when the last reading of the node's database succeeded").register(registry);
        Gauge.builder("cttriage_associations_active", this, m -> m.node.activeAssociations())
                .description("DICOM associations accepted and not yet ended").register(registry);
        Gauge.builder("cttriage_triage_queue_depth", this, m -> m.node.triageQueueDepth())
                .description("Studies whose quiet period has passed, waiting for the triage route").register(registry);
        Gauge.builder("cttriage_data_free", this, NodeMetrics::freeBytes)
                .description("Usable bytes on the data folder's file system; associations are refused below "
                        + "dicom.min-free-disk-mb").baseUnit("bytes").register(registry);
        Gauge.builder("cttriage_data_free_min", this, m -> m.node.config().minFreeDiskBytes())
                .description("The watermark below which associations are refused").baseUnit("bytes")
                .register(registry);
        if (running.cluster().clustered()) {
            Outbox outbox = new Outbox(running.database(), true);
            Gauge.builder("cttriage_cluster_leader", this, m -> m.node.isLeader() ? 1 : 0)
                    .description("1 while this node of a cluster holds the leadership (study completion, retention)")
                    .register(registry);
            Gauge.builder("cttriage_outbox_messages", this, m -> backlog(outbox).messages())
                    .description("Messages in the database's outbox waiting for the broker (the whole cluster's)")
                    .register(registry);
            Gauge.builder("cttriage_outbox_oldest_age", this, m -> backlog(outbox).oldest()
                            .map(t -> Duration.between(t, m.clock.instant()).toMillis() / 1000.0).orElse(0.0))
                    .description("Seconds the oldest outbox message has waited for the broker (0: none)")
                    .baseUnit("seconds").register(registry);
        }
    }

    private static Outbox.Backlog backlog(Outbox outbox) {
        try {
            return outbox.backlog();
        } catch (TriageException | RuntimeException e) {
            return new Outbox.Backlog(-1, java.util.Optional.empty());
        }
    }

    /**
     * Adds the readiness checks as gauges ({@code cttriage_ready}, {@code cttriage_health_check{check}}: 1 up,
     * 0 down) so that an alert rule sees what {@code /health/ready} says; run at most once per {@link #REFRESH}.
     */
    public void bindHealth(java.util.function.Supplier<NodeHealth.Report> checks) {
        Gauge.builder("cttriage_ready", this, m -> m.health(checks).status() == NodeHealth.Status.UP ? 1 : 0)
                .description("1 when every readiness check is up (GET /health/ready answers 200)").register(registry);
        for (String check : List.of("database", "dicom-listener", "model", "disk", "deliveries")) {
            Gauge.builder("cttriage_health_check", this, m -> m.health(checks).checks().stream()
                            .filter(c -> c.name().equals(check)).findFirst()
                            .map(c -> c.status() == NodeHealth.Status.UP ? 1.0 : 0.0).orElse(Double.NaN))
                    .description("Each readiness check of GET /health/ready: 1 up, 0 down").tag("check", check)
                    .register(registry);
        }
    }

    /** Adds {@code cttriage_worklist_overdue}: studies not reviewed within {@code worklist.overdue} for their priority. */
    public void bindWorklist(java.util.function.IntSupplier overdue) {
        // Micrometer holds a gauge's object weakly: the supplier (a method reference nobody else keeps) would be
        // collected and the gauge read NaN. A strong reference keeps it as long as the meter.
        Gauge.builder("cttriage_worklist_overdue", overdue, o -> o.getAsInt())
                .description("Studies still new on the worklist past worklist.overdue for their priority (-1: unreadable)")
                .strongReference(true).register(registry);
    }

    private synchronized NodeHealth.Report health(java.util.function.Supplier<NodeHealth.Report> checks) {
        Instant now = clock.instant();
        if (health == null || Duration.between(healthAt, now).compareTo(REFRESH) >= 0) {
            health = checks.get();
            healthAt = now;
        }
        return health;
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void accepted(AssociationRequest request) {
        accepted.increment();
    }

    @Override
    public void rejected(AssociationRequest request, AssociationDecision.Reject decision) {
        rejected.get(reason(decision)).increment();
    }

    @Override
    public void storeAnswered(String callingAeTitle, String sopInstanceUid, DimseStatus status) {
        storeAnswers.get(status).increment();
    }

    @Override
    public void partialInstanceDiscarded(String callingAeTitle, String sopInstanceUid, String cause) {
        partialDiscarded.increment();
    }

    @Override
    public void triaged(Triaged event) {
        triageLatency.record(event.latency());
        inference.record(event.inference());
    }

    @Override
    public void deliveryAttempted(DeliveryAttempted event) {
        String destination = event.delivery().destination();
        String outcome = event.attempt() instanceof org.cttriage.core.node.Exporter.Attempt.Delivered ? "delivered"
                : event.attempt() instanceof org.cttriage.core.node.Exporter.Attempt.Rejected ? "rejected" : "retry";
        attempts.computeIfAbsent(List.of(destination, event.kind(), outcome), k -> Counter
                .builder("cttriage_delivery_attempts").description("Delivery attempts by destination, kind and outcome")
                .tag("destination", destination).tag("kind", event.kind()).tag("outcome", outcome)
                .register(registry)).increment();
        attemptTimes.computeIfAbsent(event.kind(), k -> Timer.builder("cttriage_delivery_attempt_duration")
                .description("How long one delivery attempt took, by kind")
                .tag("kind", k).serviceLevelObjectives(ATTEMPT_BUCKETS).register(registry)).record(event.took());
        if (event.state() == DeliveryState.DEAD) {
            deadLetters.computeIfAbsent(List.of(destination, event.kind()), k -> Counter
                    .builder("cttriage_dead_letters").description("Deliveries moved to the dead letters by this process")
                    .tag("destination", destination).tag("kind", event.kind()).register(registry)).increment();
        }
    }

    static String kind(Destination d) {
        return d.isFhir() ? "fhir" : d.isFhirTask() ? "fhir-task" : d.isFhirServiceRequest() ? "fhir-service-request"
                : d.isHl7() ? "hl7" : d.isUps() ? "ups" : "dicom-sr";
    }

    static String reason(AssociationDecision.Reject r) {
        return switch (r.source()) {
            case SERVICE_USER -> r.reason() == AssociationDecision.Reject.CALLING_AE_NOT_RECOGNIZED
                    ? "calling_ae_not_recognized"
                    : r.reason() == AssociationDecision.Reject.CALLED_AE_NOT_RECOGNIZED ? "called_ae_not_recognized"
                    : "other";
            case SERVICE_PROVIDER_ACSE -> r.reason() == AssociationDecision.Reject.PROTOCOL_VERSION_NOT_SUPPORTED
                    ? "protocol_version_not_supported" : "other";
            case SERVICE_PROVIDER_PRESENTATION -> r.reason() == AssociationDecision.Reject.TEMPORARY_CONGESTION
                    ? "temporary_congestion"
                    : r.reason() == AssociationDecision.Reject.LOCAL_LIMIT_EXCEEDED ? "local_limit_exceeded" : "other";
        };
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
            // A result and its series' TRIAGED state commit in one transaction, and each count below is its own
            // query: reading the results first means a scrape that counts a result also sees its series triaged
            // (read the other way round, one landing between the two reads showed a result and no triaged series).
            Map<String, Integer> resultCounts = results.countsByPriority(false);
            InstanceRepository.Totals instanceTotals = instances.totals();
            return new Snapshot(clock.instant(), instanceTotals, series.countsByState(), resultCounts,
                    node.ledger().totals(), true);
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
