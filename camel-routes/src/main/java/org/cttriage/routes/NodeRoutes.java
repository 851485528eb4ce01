package org.cttriage.routes;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.spi.AggregationRepository;
import org.cttriage.core.dicom.net.ReceivedInstance;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.node.DeliveryScheduler;
import org.cttriage.core.node.InstanceIngest;
import org.cttriage.core.node.NodeRecovery;
import org.cttriage.core.node.NodeRole;
import org.cttriage.core.node.SeriesKey;
import org.cttriage.core.node.SeriesTriage;
import org.cttriage.core.volume.StudyVolumeBuilder;
import org.cttriage.routes.dicom.DicomConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's data flow (DESIGN.md): ingest → study assembly (quiet period, persistent) →
 * series selection and triage → delivery. The routes only orchestrate; every step is a {@code core}
 * class. Delivery is the delivery model's ({@link DeliveryScheduler}: one lane per destination,
 * retries and dead letters in the ledger): the triage route hands it a recorded result's deliveries at
 * once, and a timer route hands it those whose next attempt has come. Route ids are stable for tests.
 */
public final class NodeRoutes extends RouteBuilder {
    private static final Logger LOG = LoggerFactory.getLogger(NodeRoutes.class);
    /** Header carrying the Study Instance UID through assembly: the study is the unit of triage. */
    public static final String STUDY = "CtTriageStudy";
    private static final String QUIET = "CtTriageQuiet";
    private static final String SELECTION = "CtTriageSelection";
    private static final String INPUT = "CtTriageInput";
    private static final String VOLUME = "CtTriageVolume";
    private static final String RESULT = "CtTriageResult";
    /** At most one assembly signal per series in this period (the quiet period is checked against the database). */
    static final Duration SIGNAL_EVERY = Duration.ofMillis(250);
    /** How often the aggregator looks for series whose quiet period has passed. */
    static final Duration COMPLETION_CHECK = Duration.ofMillis(100);
    /** How often deliveries whose next attempt has come are looked for in the ledger. */
    static final Duration DELIVERY_SWEEP = Duration.ofSeconds(1);

    /**
     * Route settings.
     *
     * @param aeTitle our AE title: the listener's, and the calling AE title of our C-STOREs
     * @param listener the {@code dicom:} consumer endpoint, configured with typed options
     * @param quietPeriod series complete when no instance arrived for this long
     * @param role what this node does: {@code ALL} every route below; {@code RECEIVER} only the listener's
     *     ingest (study completion is the cluster leader's); {@code WORKER} the triage route, fed from the
     *     broker through {@code direct:triage}, and the delivery sweep
     */
    public record Settings(String aeTitle, org.apache.camel.Endpoint listener, Duration quietPeriod, NodeRole role) {
        /** A single node's settings (role {@code ALL}). */
        public Settings(String aeTitle, org.apache.camel.Endpoint listener, Duration quietPeriod) {
            this(aeTitle, listener, quietPeriod, NodeRole.ALL);
        }
    }

    /** The worker's triage entry: the body and the study header are the Study Instance UID. */
    public static final String WORKER_TRIAGE = "direct:triage";

    private final Settings settings;
    /** The clock the database's last_received was written with (InstanceIngest's): the quiet period compares with it. */
    private final Clock clock;
    private final InstanceIngest ingest;
    private final SeriesTriage triage;
    private final DeliveryScheduler deliveries;
    private final AggregationRepository aggregation;
    /** When each receiving series was last signalled to assembly (System.nanoTime). */
    private final java.util.Map<String, Long> lastSignal = new java.util.concurrent.ConcurrentHashMap<>();

    public NodeRoutes(Settings settings, InstanceIngest ingest, SeriesTriage triage, DeliveryScheduler deliveries,
            AggregationRepository aggregation, Clock clock) {
        this.clock = clock;
        this.settings = settings;
        this.ingest = ingest;
        this.triage = triage;
        this.deliveries = deliveries;
        this.aggregation = aggregation;
    }

    @Override
    public void configure() {
        NodeRole role = settings.role();
        if (role == NodeRole.RECEIVER) {
            // Persisted before acknowledged, as always; the cluster's leader finds the complete studies.
            from(settings.listener()).routeId("dicom-ingest").process(this::ingest);
        } else if (role == NodeRole.ALL) {
            from(settings.listener()).routeId("dicom-ingest")
                    .process(this::ingest)
                    .filter(header(STUDY).isNotNull())
                        // The instance is recorded: a failed signal must not fail its C-STORE. The
                        // study is signalled again by its next instance, or at restart.
                        .doTry()
                            .to("direct:assemble")
                        .doCatch(Exception.class)
                            .log(LoggingLevel.WARN, LOG, "study ${header." + STUDY + "} not signalled to assembly"
                                    + " (recovered later): ${exception.message}")
                        .end();

            // One aggregate per study: its quiet period runs from the last instance of any of its series.
            from("direct:assemble").routeId("study-assembly")
                    .aggregate(header(STUDY), (oldExchange, newExchange) -> oldExchange == null ? newExchange : oldExchange)
                        .aggregationRepository(aggregation)
                        .optimisticLocking()
                        .completionTimeout(settings.quietPeriod().toMillis())
                        // The checker's period adds to the latency after the quiet period; 100 ms costs nothing.
                        .completionTimeoutCheckerInterval(COMPLETION_CHECK.toMillis())
                        .id("study-aggregator")
                    .to("seda:triage");
        }
        if (!role.triages()) {
            return;
        }

        // Series selection in the study → volume → inference → SR, as DESIGN.md draws it; every step
        // is SeriesTriage's.
        from(role == NodeRole.ALL ? "seda:triage" : WORKER_TRIAGE).routeId("triage")
                // Any failure of one study ends it, once: NOT_TRIAGED with a code and a reason, no SR.
                // Unhandled, the exchange failed, the series stayed RECEIVING, and assembly and
                // every restart's recovery sent it back into the same failure for ever.
                .onException(Exception.class).handled(true)
                    .process(e -> outcome(e, triage.failedStudy(study(e),
                            e.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class)))).id("triage-failed")
                .end()
                .process(this::quietPeriod).id("quiet-period")
                .filter(exchangeProperty(QUIET).isEqualTo(true))
                    .process(this::selectSeries).id("series-selection")
                    .choice()
                        .when(e -> selection(e).chosen() == null)
                            .process(e -> outcome(e, triage.noSeriesQualifies(selection(e)))).id("no-series-qualifies")
                        .when(e -> input(e).instances().isEmpty() || input(e).existingResult() != null)
                            .process(e -> outcome(e, triage.unchanged(input(e)))).id("unchanged-input")
                        .when(e -> input(e).removed() > 0)
                            .process(e -> outcome(e, triage.incomplete(input(e)))).id("incomplete-input")
                        .otherwise()
                            .process(e -> e.setProperty(VOLUME, triage.volume(input(e)))).id("selection-and-volume")
                            .choice()
                                .when(e -> e.getProperty(VOLUME) instanceof StudyVolumeBuilder.NotBuilt)
                                    .process(e -> outcome(e, triage.notBuilt(input(e),
                                            e.getProperty(VOLUME, StudyVolumeBuilder.NotBuilt.class)))).id("not-triaged")
                                .otherwise()
                                    .process(e -> e.setProperty(RESULT, triage.infer(built(e)))).id("inference")
                                    .process(e -> outcome(e, triage.record(input(e), built(e),
                                            e.getProperty(RESULT, InferenceEngine.Analysis.class)))).id("sr-and-result")
                            .end()
                    .end()
                .end()
                // The result's deliveries are due now: hand them to their lanes without waiting for the sweep
                // (a worker leaves them to the broker's delivery queue, which any worker consumes).
                .filter(e -> role == NodeRole.ALL && !e.getMessage().getBody(List.class).isEmpty())
                    .process(e -> deliveries.dispatchDue()).id("dispatch-deliveries");

        // Deliveries whose next attempt has come (retries), pending ones recovered at start, and dead
        // letters an operator made pending again while the node runs.
        from("timer:deliveries?delay=0&period=" + DELIVERY_SWEEP.toMillis()).routeId("delivery-sweep")
                .process(e -> deliveries.dispatchDue()).id("dispatch-due");
    }

    private void ingest(Exchange exchange) throws Exception {
        InstanceIngest.Outcome outcome = ingest.ingest(exchange.getIn().getBody(ReceivedInstance.class));
        exchange.getMessage().setHeader(DicomConstants.DIMSE_STATUS, outcome.status());
        if (outcome.changedSeries() != null) {
            // One persistent aggregator update per study every SIGNAL_EVERY, not one per instance:
            // it was a third of the time spent before each C-STORE answer. The quiet period is then
            // measured from the database's last_received when the aggregate completes (triage).
            String key = outcome.changedSeries().studyInstanceUid();
            long now = System.nanoTime();
            Long last = lastSignal.get(key);
            if (last == null || now - last >= SIGNAL_EVERY.toNanos()) {
                lastSignal.put(key, now);
                exchange.getMessage().setHeader(STUDY, key);
                exchange.getMessage().setBody(key);
            }
        }
    }

    private static String study(Exchange exchange) {
        return exchange.getIn().getHeader(STUDY, String.class);
    }

    private static SeriesTriage.StudySelection selection(Exchange exchange) {
        return exchange.getProperty(SELECTION, SeriesTriage.StudySelection.class);
    }

    /** Chooses the study's series and, when one qualifies, takes that series' current input. */
    private void selectSeries(Exchange exchange) throws Exception {
        SeriesTriage.StudySelection selection = triage.select(study(exchange));
        exchange.setProperty(SELECTION, selection);
        if (selection.chosen() != null) {
            exchange.setProperty(INPUT, triage.input(selection.chosen()));
        }
    }

    private static SeriesTriage.Input input(Exchange exchange) {
        return exchange.getProperty(INPUT, SeriesTriage.Input.class);
    }

    private static StudyVolumeBuilder.Built built(Exchange exchange) {
        return exchange.getProperty(VOLUME, StudyVolumeBuilder.Built.class);
    }

    /** The deliveries a triaged series owes become the body the split sends on. */
    private static void outcome(Exchange exchange, SeriesTriage.Outcome outcome) {
        // The volume is no longer needed: let it go before delivery.
        exchange.removeProperty(VOLUME);
        exchange.getMessage().setBody(outcome instanceof SeriesTriage.Triaged t ? t.pendingDeliveries() : List.of());
    }

    /**
     * The quiet period, measured from the database's last_received: an aggregate completes at
     * most {@link #SIGNAL_EVERY} early; instances that kept arriving send the study back to
     * assembly for a full quiet period.
     */
    private void quietPeriod(Exchange exchange) throws Exception {
        String study = study(exchange);
        exchange.getMessage().setBody(List.of());
        exchange.setProperty(QUIET, false);
        java.time.Instant last = triage.lastReceived(study);
        if (last != null) {
            long remaining = settings.quietPeriod().toMillis()
                    - Duration.between(last, clock.instant()).toMillis();
            if (remaining > 2 * SIGNAL_EVERY.toMillis() && settings.role() == NodeRole.WORKER) {
                // Instances arrived after the leader queued it: its next sweep queues it again when quiet.
                LOG.debug("study {} received again since it was queued; left to the leader's next sweep", study);
                return;
            }
            if (remaining > 2 * SIGNAL_EVERY.toMillis()) {
                // Instances kept arriving after the last signal: assemble again for a full quiet period.
                lastSignal.put(study, System.nanoTime());
                exchange.getContext().createProducerTemplate().sendBodyAndHeader("direct:assemble", study, STUDY,
                        study);
                return;
            }
            if (remaining > 0) {
                Thread.sleep(remaining);
            }
        }
        lastSignal.remove(study);
        exchange.setProperty(QUIET, true);
    }

    /**
     * A worker's triage of one study from the broker's triage queue, on the caller's thread: returns when the
     * study has its result (or its reason for none) recorded, so that the message is acknowledged only then.
     */
    public static void triageOnWorker(ProducerTemplate template, String studyInstanceUid) {
        template.sendBodyAndHeader(WORKER_TRIAGE, studyInstanceUid, STUDY, studyInstanceUid);
    }

    /**
     * Re-enqueues what the database says is unfinished: series still receiving go back to
     * assembly (their quiet period runs again). Pending deliveries are the delivery sweep's.
     */
    public static void recover(NodeRecovery recovery, ProducerTemplate template) throws Exception {
        List<SeriesKey> series = recovery.seriesAwaitingTriage();
        for (String study : series.stream().map(SeriesKey::studyInstanceUid).distinct().toList()) {
            template.sendBodyAndHeader("direct:assemble", study, STUDY, study);
        }
        if (!series.isEmpty()) {
            LOG.info("recovered {} series awaiting triage (pending deliveries are picked up by the sweep)",
                    series.size());
        }
    }
}
