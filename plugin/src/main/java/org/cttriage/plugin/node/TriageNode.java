package org.cttriage.plugin.node;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import javax.sql.DataSource;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.spi.RoutePolicyFactory;
import org.apache.camel.processor.aggregate.jdbc.JdbcAggregationRepository;
import org.cttriage.core.dicom.net.AssociationListener;
import org.cttriage.core.dicom.net.ListenerOptions;
import org.cttriage.core.dicom.net.TlsOptions;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryScheduler;
import org.cttriage.core.node.DicomExporter;
import org.cttriage.core.node.RetryPolicy;
import org.cttriage.core.node.DuplicatePolicy;
import org.cttriage.core.node.InstanceIngest;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.core.node.NodeObserver;
import org.cttriage.core.node.Leadership;
import org.cttriage.core.node.NodeRecovery;
import org.cttriage.core.node.NodeRole;
import org.cttriage.core.node.Outbox;
import org.cttriage.core.node.StudyCompletion;
import org.cttriage.core.node.NonCtPolicy;
import org.cttriage.core.node.SeriesTriage;
import org.cttriage.core.node.SharedDataCheck;
import org.cttriage.core.node.SpoolRetention;
import org.cttriage.core.pipeline.TriagePipeline;
import org.cttriage.core.dicom.sr.SrOptions;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.routes.NodeRoutes;
import org.cttriage.routes.cluster.BrokerLink;
import org.cttriage.routes.dicom.DicomComponent;
import org.cttriage.routes.dicom.DicomConfiguration;
import org.cttriage.routes.dicom.DicomConsumer;
import org.cttriage.routes.dicom.DicomEndpoint;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

/**
 * The running node: database migrated, routes started, and whatever the database says is
 * unfinished re-enqueued. Folders under the data directory: {@code incoming/} (.part files being
 * received), {@code spool/} (received instances), {@code results/} (SRs).
 */
public final class TriageNode implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TriageNode.class);
    /** spool.retention's default: three days, a long weekend of late instances. */
    public static final Duration DEFAULT_SPOOL_RETENTION = Duration.ofHours(72);
    /** How often finished series are checked against the spool retention. */
    static final Duration RETENTION_SWEEP = Duration.ofMinutes(10);
    /** How often a clustered node sends its outbox to the broker. */
    static final Duration RELAY_EVERY = Duration.ofMillis(200);
    /** How often the cluster's leader looks for complete studies. */
    static final Duration COMPLETION_SWEEP = Duration.ofMillis(500);
    /**
     * Everything the node needs to know (validated by the caller's configuration).
     *
     * @param aeTitle our AE title
     * @param bindAddress listen address
     * @param port listen port (0: ephemeral)
     * @param allowedCallingAeTitles accepted calling AE titles (empty: any)
     * @param maxAssociations associations at once
     * @param transferSyntaxes accepted transfer syntaxes in preference order
     * @param minFreeDiskBytes disk watermark
     * @param dataDirectory where spool, results and incoming live
     * @param quietPeriod series completion after this long without instances
     * @param destinations where results go
     * @param maxAttempts delivery attempts before a dead letter
     * @param initialBackoff first redelivery delay
     * @param backoffMultiplier redelivery delay growth
     * @param maxBackoff longest redelivery delay
     * @param nonCt non-CT instances policy
     * @param duplicates duplicate SOP Instance UID policy
     * @param sr SR settings
     * @param tls TLS for the listener, or empty for plain TCP
     * @param spoolRetention how long a finished series keeps its instance files after its last
     *     instance (zero: for ever); see {@link SpoolRetention}
     * @param artimTimeout the whole time a connection has to deliver its A-ASSOCIATE-RQ
     * @param maxAssociationsPerHost connections one remote host may hold at once
     */
    public record Config(String aeTitle, String bindAddress, int port, Set<String> allowedCallingAeTitles,
            int maxAssociations, List<String> transferSyntaxes, long minFreeDiskBytes, Path dataDirectory,
            Duration quietPeriod, List<Destination> destinations, int maxAttempts, Duration initialBackoff,
            double backoffMultiplier, Duration maxBackoff, NonCtPolicy nonCt, DuplicatePolicy duplicates, SrOptions sr,
            Optional<TlsOptions> tls, Duration spoolRetention, Duration artimTimeout, int maxAssociationsPerHost) {
        /**
         * The configuration's defaults ({@link NodeSettings#defaults()}, their one home) around the essentials a
         * test or an embedding gives: AE title, port, data folder, destinations.
         */
        public static Config defaults(String aeTitle, int port, Path dataDirectory, List<Destination> destinations) {
            Config d;
            try {
                d = NodeSettings.defaults().nodeConfig(List.of());
            } catch (TriageException e) {
                throw new IllegalStateException("the configuration's defaults are invalid: " + e.getMessage(), e);
            }
            return new Config(aeTitle, d.bindAddress(), port, d.allowedCallingAeTitles(), d.maxAssociations(),
                    d.transferSyntaxes(), d.minFreeDiskBytes(), dataDirectory, d.quietPeriod(), destinations,
                    d.maxAttempts(), d.initialBackoff(), d.backoffMultiplier(), d.maxBackoff(), d.nonCt(),
                    d.duplicates(), d.sr(), d.tls(), d.spoolRetention(), d.artimTimeout(), d.maxAssociationsPerHost());
        }

        public Config withQuietPeriod(Duration quiet) {
            return new Config(aeTitle, bindAddress, port, allowedCallingAeTitles, maxAssociations, transferSyntaxes,
                    minFreeDiskBytes, dataDirectory, quiet, destinations, maxAttempts, initialBackoff, backoffMultiplier,
                    maxBackoff, nonCt, duplicates, sr, tls, spoolRetention, artimTimeout, maxAssociationsPerHost);
        }

        public Config withRedelivery(int attempts, Duration initial, Duration max) {
            return new Config(aeTitle, bindAddress, port, allowedCallingAeTitles, maxAssociations, transferSyntaxes,
                    minFreeDiskBytes, dataDirectory, quietPeriod, destinations, attempts, initial, backoffMultiplier,
                    max, nonCt, duplicates, sr, tls, spoolRetention, artimTimeout, maxAssociationsPerHost);
        }

        public Config withTls(Optional<TlsOptions> tlsOptions) {
            return new Config(aeTitle, bindAddress, port, allowedCallingAeTitles, maxAssociations, transferSyntaxes,
                    minFreeDiskBytes, dataDirectory, quietPeriod, destinations, maxAttempts, initialBackoff,
                    backoffMultiplier, maxBackoff, nonCt, duplicates, sr, tlsOptions, spoolRetention, artimTimeout,
                    maxAssociationsPerHost);
        }

        public Config withAllowedCallingAeTitles(Set<String> allowed) {
            return new Config(aeTitle, bindAddress, port, allowed, maxAssociations, transferSyntaxes, minFreeDiskBytes,
                    dataDirectory, quietPeriod, destinations, maxAttempts, initialBackoff, backoffMultiplier, maxBackoff,
                    nonCt, duplicates, sr, tls, spoolRetention, artimTimeout, maxAssociationsPerHost);
        }
    }

    private final CamelContext camel;
    private final Config config;
    private final DeliveryLedger ledger;
    private final NodeDatabase database;
    private final InstanceIngest ingest;
    private final DeliveryScheduler deliveries;
    private final NodeObserver.Observers observers;
    private final ClusterConfig cluster;
    private final List<AutoCloseable> clusterParts;

    private TriageNode(CamelContext camel, Config config, DeliveryLedger ledger, NodeDatabase database,
            InstanceIngest ingest, DeliveryScheduler deliveries, NodeObserver.Observers observers,
            ClusterConfig cluster, List<AutoCloseable> clusterParts) {
        this.cluster = cluster;
        this.clusterParts = clusterParts;
        this.observers = observers;
        this.deliveries = deliveries;
        this.camel = camel;
        this.config = config;
        this.ledger = ledger;
        this.database = database;
        this.ingest = ingest;
    }

    /**
     * Who is told what the node does: node events (results, delivery attempts) and the DICOM listener's
     * association events, and Camel's route policies (route metrics). Given at start so that nothing is missed
     * (recovered deliveries are attempted at once).
     */
    public record Observers(List<NodeObserver> node, List<AssociationListener> associations,
            List<RoutePolicyFactory> routePolicies) {
        public Observers {
            node = List.copyOf(node);
            associations = List.copyOf(associations);
            routePolicies = List.copyOf(routePolicies);
        }

        public static Observers none() {
            return new Observers(List.of(), List.of(), List.of());
        }

        /** These and {@code other}'s. */
        public Observers and(Observers other) {
            List<NodeObserver> n = new ArrayList<>(node);
            n.addAll(other.node);
            List<AssociationListener> a = new ArrayList<>(associations);
            a.addAll(other.associations);
            List<RoutePolicyFactory> r = new ArrayList<>(routePolicies);
            r.addAll(other.routePolicies);
            return new Observers(n, a, r);
        }
    }

    /** Starts the node; the caller keeps ownership of the data source, engine and pool. */
    public static TriageNode start(Config config, DataSource dataSource, InferenceEngine engine,
            SelectionPolicy selection, AssemblyPolicy assembly, ExecutorService pool,
            Optional<DeliveryScheduler.Lane> fhir, Clock clock) throws Exception {
        return start(config, dataSource, engine, selection, assembly, pool, fhir, clock, Observers.none());
    }

    /** Starts the node with its observers; the caller keeps ownership of the data source, engine and pool. */
    public static TriageNode start(Config config, DataSource dataSource, InferenceEngine engine,
            SelectionPolicy selection, AssemblyPolicy assembly, ExecutorService pool,
            Optional<DeliveryScheduler.Lane> fhir, Clock clock, Observers observers) throws Exception {
        return start(config, dataSource, engine, selection, assembly, pool, fhir.stream().toList(), clock, observers);
    }

    /**
     * Starts the node with the lanes of its destinations that are not DICOM peers (FHIR, HL7: each built by the
     * caller from its own keys, matched to its destination by name), and its observers; the caller keeps ownership
     * of the data source, engine, pool and those lanes' exporters.
     */
    public static TriageNode start(Config config, DataSource dataSource, InferenceEngine engine,
            SelectionPolicy selection, AssemblyPolicy assembly, ExecutorService pool,
            List<DeliveryScheduler.Lane> otherLanes, Clock clock, Observers observers) throws Exception {
        return start(config, dataSource, engine, selection, assembly, pool, otherLanes, clock, observers,
                ClusterConfig.SINGLE);
    }

    /**
     * Starts the node in a role of the multi-node mode ({@code cluster}; docs/architecture.md, "Scaling out"):
     * a receiver runs the listener and ingest only ({@code engine} may be null), a worker the triage route fed by
     * the broker's triage queue and the deliveries; every clustered node relays the database's outbox to the
     * broker and competes for the leadership, whose holder runs study-complete detection and spool retention.
     */
    public static TriageNode start(Config config, DataSource dataSource, InferenceEngine engine,
            SelectionPolicy selection, AssemblyPolicy assembly, ExecutorService pool,
            List<DeliveryScheduler.Lane> otherLanes, Clock clock, Observers observers, ClusterConfig cluster)
            throws Exception {
        NodeRole role = cluster.role();
        NodeObserver.Observers nodeObservers = new NodeObserver.Observers(observers.node());
        Path data = config.dataDirectory();
        Path incoming = Files.createDirectories(data.resolve("incoming"));
        Path spool = Files.createDirectories(data.resolve("spool"));
        Path results = Files.createDirectories(data.resolve("results"));
        try (var parts = Files.newDirectoryStream(incoming, "*.part")) {
            // Never acknowledged (the node stopped mid-transfer): the PACS resends them.
            for (Path p : parts) {
                Files.deleteIfExists(p);
            }
        }
        NodeDatabase database = new NodeDatabase(dataSource);
        database.migrate();
        if (cluster.clustered()) {
            SharedDataCheck.verify(database, data, clock.instant());
        }
        DeliveryLedger ledger = new DeliveryLedger(database, clock);
        InstanceIngest ingest = new InstanceIngest(database, spool, config.nonCt(), config.duplicates(), clock);
        // Before the listener starts: acknowledged instances whose rows a power loss took are
        // recorded again, so that the recovery below triages their series.
        ingest.recordUnrecordedSpoolFiles();
        // The pipeline object ct-triage analyze runs too; the node adds the database, supersession and deliveries.
        SeriesTriage triage = role.triages() ? new SeriesTriage(database, new TriagePipeline(engine, selection, assembly,
                pool, config.sr()), results, config.destinations().stream().map(Destination::name).toList(), clock,
                nodeObservers) : null;
        if (triage != null) {
            triage.announceDeliveries(cluster.clustered());
        }
        // Also on PostgreSQL: Camel 4.17's PostgresAggregationRepository inserts with two columns but
        // binds three parameters (version), which PostgreSQL refuses; a duplicate-key race on the
        // plain insert is retried by the aggregator's optimistic locking in a new transaction.
        JdbcAggregationRepository aggregation = new JdbcAggregationRepository(
                new DataSourceTransactionManager(dataSource), "series_aggregation", dataSource);
        aggregation.setUseRecovery(true);

        DefaultCamelContext camel = new DefaultCamelContext();
        camel.getCamelContextExtension().setName("ct-triage");
        observers.routePolicies().forEach(camel::addRoutePolicyFactory);
        DicomEndpoint listenerEndpoint = role.receives() ? listener(camel, config, incoming, observers) : null;
        NodeRoutes.Settings settings = new NodeRoutes.Settings(config.aeTitle(), listenerEndpoint, config.quietPeriod(),
                role);
        // One lane per destination: the DICOM peers' under the delivery.* policy, FHIR's and HL7's under their keys.
        RetryPolicy dicomPolicy = new RetryPolicy(config.maxAttempts(), config.initialBackoff(),
                config.backoffMultiplier(), config.maxBackoff());
        List<DeliveryScheduler.Lane> lanes = new ArrayList<>();
        for (Destination d : config.destinations()) {
            if (!d.isDicom()) {
                lanes.add(otherLanes.stream().filter(l -> l.destination().equals(d.name())).findFirst()
                        .orElseThrow(() -> new TriageException(ErrorCode.CONFIGURATION_INVALID, "a " + d.name()
                                + " destination is configured but no " + d.name() + " delivery was given")));
            } else {
                lanes.add(new DeliveryScheduler.Lane(d.name(), new DicomExporter(config.aeTitle(), d.dicom(), d.tls()),
                        dicomPolicy));
            }
        }
        if (role == NodeRole.ALL) {
            // Alone on its database: no other dispatcher's claim can be live. In a cluster, claims run out by themselves.
            int released = ledger.releaseClaims();
            if (released > 0) {
                LOG.info("{} delivery attempt(s) interrupted by the last stop will be made again", released);
            }
        }
        DeliveryScheduler deliveries = role.triages() ? new DeliveryScheduler(ledger, lanes, clock, nodeObservers,
                cluster.deliveryClaim()) : null;

        camel.addRoutes(new NodeRoutes(settings, ingest, triage, deliveries, aggregation, clock));
        SpoolRetention retention = new SpoolRetention(database, ingest, spool, config.spoolRetention(), clock);
        List<AutoCloseable> clusterParts = new ArrayList<>();
        Leadership leadership = cluster.clustered() ? new Leadership(dataSource, cluster.nodeName(),
                cluster.leaderCheck(), leader -> { }) : null;
        if (leadership != null) {
            clusterParts.add(leadership);
        }
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                // First run a minute after start-up, when recovery has re-enqueued what was unfinished.
                from("timer:spool-retention?delay=60000&period=" + RETENTION_SWEEP.toMillis()).routeId("spool-retention")
                        .filter(e -> leadership == null || leadership.isLeader())
                        .process(e -> retention.removeExpired());
            }
        });
        if (cluster.clustered()) {
            clusterParts.addAll(0, startCluster(camel, database, config, cluster, leadership, clock));
        }
        camel.start();
        if (role == NodeRole.ALL) {
            NodeRoutes.recover(new NodeRecovery(database), camel.createProducerTemplate());
        }
        if (cluster.clustered() && role.triages()) {
            BrokerLink link = (BrokerLink) clusterParts.stream().filter(p -> p instanceof BrokerLink).findFirst()
                    .orElseThrow();
            org.apache.camel.ProducerTemplate template = camel.createProducerTemplate();
            clusterParts.add(0, link.consume(StudyCompletion.TRIAGE_QUEUE, cluster.triageConsumers(),
                    study -> NodeRoutes.triageOnWorker(template, study)));
            // A delivery is claimed in the ledger and queued on its lane, then acknowledged: the claim is what holds
            // it from then on (a worker that dies leaves a claim that runs out, and the ledger's sweep retries).
            clusterParts.add(0, link.consume(StudyCompletion.DELIVERY_QUEUE, 1,
                    id -> deliveries.dispatch(Long.parseLong(id))));
        }
        LOG.info("node {} started as {}", cluster.nodeName(), role.name().toLowerCase(java.util.Locale.ROOT));
        return new TriageNode(camel, config, ledger, database, ingest, deliveries, nodeObservers, cluster, clusterParts);
    }

    /**
     * The clustered node's routes: the outbox relay (every node, {@link #RELAY_EVERY}) and, while this node leads,
     * study-complete detection ({@link #COMPLETION_SWEEP}).
     *
     * @return what to close at stop, the broker link first
     */
    private static List<AutoCloseable> startCluster(DefaultCamelContext camel, NodeDatabase database, Config config,
            ClusterConfig cluster, Leadership leadership, Clock clock) throws Exception {
        BrokerLink link = new BrokerLink(cluster.brokerUrl(), cluster.brokerUser(), cluster.brokerPassword());
        Outbox outbox = new Outbox(database, true);
        StudyCompletion completion = new StudyCompletion(database, config.quietPeriod(), cluster.requeueAfter(), clock);
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("timer:outbox-relay?delay=0&period=" + RELAY_EVERY.toMillis()).routeId("outbox-relay")
                        .process(e -> {
                            while (outbox.relay(link, 100) == 100) {
                                // a full batch: more may wait
                            }
                        });
                from("timer:study-completion?delay=0&period=" + COMPLETION_SWEEP.toMillis()).routeId("study-completion")
                        .filter(e -> leadership.isLeader())
                        .process(e -> {
                            List<String> queued = completion.sweep();
                            if (!queued.isEmpty()) {
                                LOG.info("leader {}: {} complete stud{} queued for triage", cluster.nodeName(),
                                        queued.size(), queued.size() == 1 ? "y" : "ies");
                            }
                        });
            }
        });
        return List.of(link);
    }

    /** The DICOM listener's endpoint, configured from {@code config}. */
    private static DicomEndpoint listener(DefaultCamelContext camel, Config config, Path incoming, Observers observers)
            throws Exception {
        DicomComponent dicom = new DicomComponent();
        camel.addComponent("dicom", dicom);
        DicomConfiguration listen = new DicomConfiguration();
        listen.setHost(config.bindAddress());
        listen.setPort(config.port());
        listen.setIncomingDirectory(incoming.toAbsolutePath().toString());
        listen.setMaxAssociations(config.maxAssociations());
        listen.setTransferSyntaxes(String.join(",", config.transferSyntaxes()));
        listen.setMinFreeDiskBytes(config.minFreeDiskBytes());
        listen.setArtimTimeoutMillis(config.artimTimeout().toMillis());
        listen.setMaxAssociationsPerHost(config.maxAssociationsPerHost());
        listen.setAllowedCallingAeTitles(String.join(",", config.allowedCallingAeTitles()));
        if (config.tls().isPresent()) {
            TlsOptions t = config.tls().get();
            listen.setTlsKeyStore(t.keyStore().toAbsolutePath().toString());
            listen.setTlsKeyStorePassword(new String(t.keyStorePassword()));
            listen.setTlsClientAuth(t.clientAuth().name());
            if (t.trustStore().isPresent()) {
                listen.setTlsTrustStore(t.trustStore().get().toAbsolutePath().toString());
                listen.setTlsTrustStorePassword(new String(t.trustStorePassword()));
            }
        }
        DicomEndpoint listenerEndpoint = dicom.endpoint(config.aeTitle(), listen);
        observers.associations().forEach(listenerEndpoint::addObserver);
        return listenerEndpoint;
    }

    private static void closeQuietly(AutoCloseable part) {
        try {
            part.close();
        } catch (Exception e) {
            LOG.warn("closing {}: {}", part.getClass().getSimpleName(), e.toString());
        }
    }

    /** The listening port (the bound one when configured with 0); -1 for a worker, which does not listen. */
    public int port() {
        return cluster.role().receives() ? ((DicomConsumer) camel.getRoute("dicom-ingest").getConsumer()).port() : -1;
    }

    /** Associations accepted and not yet ended. */
    public int activeAssociations() {
        return cluster.role().receives()
                ? ((DicomConsumer) camel.getRoute("dicom-ingest").getConsumer()).activeAssociations() : 0;
    }

    /**
     * Studies whose quiet period has passed, waiting for the triage route (in memory; the database keeps them too).
     * Clustered, the queue is the broker's: 0 here.
     */
    public int triageQueueDepth() {
        return cluster.role() == NodeRole.ALL
                ? ((org.apache.camel.component.seda.SedaEndpoint) camel.getEndpoint("seda:triage")).getCurrentQueueSize()
                : 0;
    }

    /** Attempts claimed and queued on each destination's lane, not yet finished (none on a receiver). */
    public java.util.Map<String, Integer> deliveryLaneDepths() {
        return deliveries == null ? java.util.Map.of() : deliveries.laneDepths();
    }

    /** Whether this clustered node holds the leadership now (false for a single node, which has none). */
    public boolean isLeader() {
        return clusterParts.stream().anyMatch(p -> p instanceof Leadership l && l.isLeader());
    }

    /** The node's role and cluster settings ({@link ClusterConfig#SINGLE} alone). */
    public ClusterConfig cluster() {
        return cluster;
    }

    /** Adds an observer of node events while the node runs (events before it are not replayed). */
    public void addObserver(NodeObserver observer) {
        observers.add(observer);
    }

    public CamelContext camel() {
        return camel;
    }

    public DeliveryLedger ledger() {
        return ledger;
    }

    public NodeDatabase database() {
        return database;
    }

    public Config config() {
        return config;
    }

    @Override
    public void close() {
        // Consumers first: a message being handled finishes (and is acknowledged) before the routes stop.
        for (AutoCloseable part : clusterParts.stream().filter(p -> !(p instanceof BrokerLink)).toList()) {
            closeQuietly(part);
        }
        camel.stop();
        clusterParts.stream().filter(p -> p instanceof BrokerLink).forEach(TriageNode::closeQuietly);
        // After the routes: no dispatch is running; an attempt under way ends within its timeouts.
        if (deliveries != null) {
            deliveries.close();
        }
        // After the listener has stopped: no batch is running, the committer's connection goes back.
        ingest.close();
    }
}
