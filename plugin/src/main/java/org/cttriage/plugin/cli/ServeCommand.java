package org.cttriage.plugin.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import javax.sql.DataSource;
import org.cttriage.core.dicom.net.DicomSender;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.inference.EngineOptions;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.inference.ModelPackage;
import org.cttriage.core.node.DeliveryScheduler;
import org.cttriage.core.node.ResultRepository;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.plugin.node.NodeAudit;
import org.cttriage.plugin.node.NodeDatabaseFiles;
import org.cttriage.plugin.node.NodeHealth;
import org.cttriage.plugin.node.NodeHttpServer;
import org.cttriage.plugin.node.NodeMetrics;
import org.cttriage.plugin.node.NodeStatus;
import org.cttriage.plugin.node.PatientDataLog;
import org.cttriage.plugin.web.Users;
import org.cttriage.plugin.web.WorklistApi;
import org.cttriage.core.node.UserRepository;
import org.cttriage.plugin.node.NodeSettings;
import org.cttriage.plugin.node.TriageNode;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.PhantomFinding;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ct-triage serve}: the DICOM node. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Runs the node: C-ECHO/C-STORE SCP, series assembly, triage, SR delivery (and FHIR when configured).",
            "With no PACS configured (delivery.dicom-destinations empty) it feeds itself generated CT studies over a",
            "real DICOM association and prints where their SRs are. Settings: docs/configuration.md."})
final class ServeCommand implements Callable<Integer> {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ServeCommand.class);
    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "Configuration file (properties); default: all defaults.")
    Path config;

    @Option(names = "--demo-studies", defaultValue = "2",
            description = "Generated studies sent to ourselves when no PACS is configured (default: ${DEFAULT-VALUE}).")
    int demoStudies;

    @Option(names = "--exit-after-demo",
            description = "Stop once the demo studies' SRs exist (for scripted checks); otherwise run until stopped.")
    boolean exitAfterDemo;

    @Option(names = "--role", paramLabel = "ROLE",
            description = "all (default: the single node), receiver or worker: the multi-node mode (node.role;"
                    + " docs/architecture.md, Scaling out).")
    String role;

    @Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path home = Path.of(System.getProperty("ct-triage.home", "."));
        NodeSettings settings;
        TriageNode.Config nodeConfig;
        InetSocketAddress httpAddress;
        Duration stuckDelivery;
        boolean logPatientData;
        Optional<NodeHttpServer.Tls> httpTls;
        java.util.Map<org.cttriage.core.domain.Priority, Duration> overdue;
        Duration sessionIdle;
        java.util.Map<String, org.cttriage.core.domain.Priority> severity;
        org.cttriage.plugin.node.ClusterConfig cluster;
        try {
            settings = NodeSettings.load(config, home);
            cluster = settings.cluster(Optional.ofNullable(role));
            nodeConfig = settings.nodeConfig(settings.otherDestinations());
            if (settings.hl7Configured()) {
                Hl7Wiring.options(settings);
            }
            if (settings.upsConfigured()) {
                UpsWiring.options(settings);
            }
            httpAddress = settings.httpAddress();
            stuckDelivery = settings.stuckDelivery();
            logPatientData = settings.logPatientData();
            httpTls = settings.httpTls();
            overdue = settings.worklistOverdue();
            sessionIdle = settings.worklistSessionIdle();
            severity = settings.worklistSeverity();
        } catch (TriageException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return 2;
        }
        Files.createDirectories(nodeConfig.dataDirectory());
        NodeAudit audit;
        try {
            audit = NodeAudit.open(settings, "ct-triage serve", Clock.systemUTC());
        } catch (TriageException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return 2;
        }
        ExecutorService pool = threads.newPool();
        NodeDatabaseFiles.Opened database;
        try {
            database = NodeDatabaseFiles.open(settings);
        } catch (TriageException | RuntimeException e) {
            pool.shutdownNow();
            audit.close();
            spec.commandLine().getErr().println(e instanceof TriageException ? e.getMessage()
                    : ErrorCode.NODE_DATABASE_FAILED.code() + " cannot open the database: " + e.getMessage());
            return CtTriageCommand.EXIT_TRIAGE_FAILURE;
        }
        DataSource dataSource = database.dataSource();
        ModelPackage model = ModelPackage.load(settings.modelPath());
        java.util.Set<String> known = new java.util.HashSet<>();
        model.dictionary().findings().forEach(f -> known.add(f.id()));
        for (String id : severity.keySet()) {
            if (!known.contains(id)) {
                database.close();
                pool.shutdownNow();
                audit.close();
                spec.commandLine().getErr().println(ErrorCode.CONFIGURATION_INVALID.code() + " worklist.severity: no finding '"
                        + id + "' in the model's dictionary; known: " + new java.util.TreeSet<>(known));
                return 2;
            }
        }
        // A receiver does not triage: it never opens the model's sessions (null: try-with-resources skips it).
        try (InferenceEngine engine = cluster.role().triages() ? new InferenceEngine(model,
                EngineOptions.defaults().withDevice(settings.device()).withSeverities(severity)) : null) {
            List<DeliveryScheduler.Lane> otherLanes = new java.util.ArrayList<>();
            if (settings.fhirConfigured()) {
                otherLanes.add(FhirWiring.lane(settings));
            }
            if (nodeConfig.destinations().stream().anyMatch(org.cttriage.plugin.node.Destination::isFhirTask)) {
                otherLanes.add(FhirWiring.taskLane(settings, dataSource));
            }
            if (nodeConfig.destinations().stream().anyMatch(org.cttriage.plugin.node.Destination::isFhirServiceRequest)) {
                otherLanes.add(FhirWiring.serviceRequestLane(settings, dataSource));
            }
            if (settings.hl7Configured()) {
                otherLanes.add(Hl7Wiring.lane(settings, dataSource));
            }
            if (settings.upsConfigured()) {
                otherLanes.add(UpsWiring.lane(settings, dataSource));
            }
            TriageNode node;
            // Observing from the start: every association, result and delivery attempt is counted.
            NodeMetrics metrics = new NodeMetrics(Clock.systemUTC());
            TriageNode.Observers observers = metrics.observers();
            if (logPatientData) {
                LOG.warn("{} security: log.patient-data is on: the operational log names the patient (ID, name, birth "
                        + "date, accession number) of every result from now on; turn it off when troubleshooting ends",
                        ErrorCode.PATIENT_DATA_LOGGED.code());
                observers = observers.and(new TriageNode.Observers(List.of(new PatientDataLog()), List.of(), List.of()));
                audit.record(audit.events().securityConfiguration("urn:ct-triage:configuration:log.patient-data",
                        "log.patient-data is on: the operational log names the patient (ID, name, birth date,"
                                + " accession number) of every result (TRIAGE-0690)"));
            }
            observers = observers.and(audit.observers(nodeConfig, settings.fhirConfigured()
                    ? Optional.of(settings.get("fhir.url")) : Optional.empty(), settings.hl7Configured()
                    ? Optional.of("mllp://" + settings.get("hl7.host") + ":" + Optional.ofNullable(settings.get("hl7.port"))
                            .orElse(String.valueOf(org.cttriage.hl7.delivery.Hl7Options.DEFAULT_PORT)))
                    : Optional.empty(), settings.upsConfigured() ? Optional.of(settings.get("ups.url")) : Optional.empty()));
            // Before the listener is bound: no association may be audited ahead of Application Start.
            audit.record(audit.events().applicationStarted());
            try {
                node = TriageNode.start(nodeConfig, dataSource, engine, SelectionPolicy.defaults(),
                        AssemblyPolicy.defaults(), pool, otherLanes, Clock.systemUTC(), observers, cluster);
            } catch (Exception e) {
                closeExporters(otherLanes);
                // Camel wraps the listener's failure (port in use, bad TLS key store…): say what it was.
                spec.commandLine().getErr().println(rootTriageMessage(e));
                audit.record(audit.events().applicationStopped());
                return CtTriageCommand.EXIT_TRIAGE_FAILURE;
            }
            NodeHttpServer http;
            WorklistApi worklist = new WorklistApi(node.database(), node.ledger(), new Users(node.database(),
                    Clock.systemUTC()), overdue, sessionIdle, Clock.systemUTC(), audit.trail());
            node.addObserver(worklist);
            try {
                NodeHealth health = new NodeHealth(node, engine, stuckDelivery, Clock.systemUTC());
                metrics.bind(node);
                metrics.bindHealth(health::ready);
                metrics.bindWorklist(worklist::overdueCount);
                NodeStatus status = new NodeStatus(node, health, Clock.systemUTC());
                http = NodeHttpServer.start(httpAddress, httpTls, health::ready, metrics::scrape, status::now, worklist);
            } catch (IOException e) {
                spec.commandLine().getErr().println(ErrorCode.CONFIGURATION_INVALID.code() + " the HTTP server cannot bind "
                        + httpAddress.getHostString() + ":" + httpAddress.getPort() + " (http.bind-address, http.port): "
                        + e.getMessage());
                node.close();
                closeExporters(otherLanes);
                audit.record(audit.events().applicationStopped());
                return CtTriageCommand.EXIT_TRIAGE_FAILURE;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            GracefulStop stop = GracefulStop.install(() -> {
                worklist.close();
                http.close();
                node.close();
                closeExporters(otherLanes);
                audit.record(audit.events().applicationStopped());
                audit.close();
                // The JVM does not wait for the main thread's finally: the pool closes here, after the node.
                database.close();
                stopped.countDown();
            });
            Path data = nodeConfig.dataDirectory().toAbsolutePath();
            if (cluster.role().receives()) {
                out.printf("ct-triage node %s listening on %s:%d (%s)%n", nodeConfig.aeTitle(), nodeConfig.bindAddress(),
                        node.port(), engine == null ? "receiver: triage on the workers"
                                : "model " + engine.modelPackage().identity().version() + " on " + engine.device());
            } else {
                out.printf("ct-triage worker %s (model %s on %s)%n", cluster.nodeName(),
                        engine.modelPackage().identity().version(), engine.device());
            }
            if (cluster.clustered()) {
                out.printf("cluster: %s as %s, broker %s%n", cluster.nodeName(),
                        cluster.role().name().toLowerCase(java.util.Locale.ROOT), cluster.brokerUrl());
            }
            out.printf("data: %s (received instances in spool/, SRs in results/)%n", data);
            out.printf("database: %s%n", database.description());
            String scheme = http.https() ? "https" : "http";
            String host = httpAddress.getAddress().isAnyLocalAddress() ? "127.0.0.1"
                    : httpAddress.getAddress().getHostAddress();
            out.printf("health: %s://%s:%d/health/ready%n", scheme, host, http.port());
            Optional<Path> initial = initialAdmin(node, nodeConfig.dataDirectory());
            out.printf("worklist: %s://%s:%d/worklist/%s%n", scheme, host, http.port(), initial
                    .map(f -> " (first start: log in as admin with the password in " + f.toAbsolutePath()
                            + "; change it with bin/ct-triage users passwd admin)").orElse(""));
            settings.notes().forEach(n -> out.printf("configuration: %s%n", n));
            out.printf("destinations: %s%n", nodeConfig.destinations().isEmpty() ? "none (demo mode)"
                    : nodeConfig.destinations().stream().map(d -> d.isFhir() ? "FHIR " + settings.get("fhir.url")
                            : d.isFhirTask() ? "FHIR Task priority"
                            : d.isFhirServiceRequest() ? "FHIR ServiceRequest priority"
                            : d.isHl7() ? "HL7 " + describeHl7(settings)
                            : d.isUps() ? "UPS-RS " + settings.get("ups.url") : d.dicom().toString()).toList());
            out.flush();
            if (nodeConfig.destinations().isEmpty() && demoStudies > 0 && !cluster.clustered()) {
                demo(out, node, data);
                if (exitAfterDemo) {
                    // The same stop as a signal's: the shutdown hook then finds it done instead of running it again.
                    stop.stopNow();
                    return 0;
                }
            }
            out.println("running; stop with Ctrl-C (SIGTERM)");
            out.flush();
            stopped.await();
            return stop.exitStatus();
        } finally {
            database.close();
            pool.shutdownNow();
            // Written and, for the collector, spooled; the shutdown hook closed it already after a SIGTERM.
            audit.close();
        }
    }

    /** Releases what the lanes' exporters hold (the RIS connection), after the node stopped using them. */
    private static void closeExporters(List<DeliveryScheduler.Lane> lanes) {
        for (DeliveryScheduler.Lane lane : lanes) {
            if (lane.exporter() instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    LOG.warn("closing the {} exporter: {}", lane.destination(), e.getMessage());
                }
            }
        }
    }

    private static String describeHl7(NodeSettings settings) {
        try {
            return Hl7Wiring.options(settings).describe();
        } catch (TriageException e) {
            return settings.get("hl7.host");
        }
    }

    /**
     * On a node without worklist users: an {@code admin} with a random password, written to an owner-only file in the
     * data folder (never to the log), so that the first operator can log in; none when any user exists.
     */
    static Optional<Path> initialAdmin(TriageNode node, Path data) throws Exception {
        if (!new UserRepository(node.database()).list().isEmpty()) {
            return Optional.empty();
        }
        byte[] bytes = new byte[18];
        new java.security.SecureRandom().nextBytes(bytes);
        char[] password = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes).toCharArray();
        try {
            new Users(node.database(), Clock.systemUTC()).add("admin", password, Users.Role.ADMIN);
        } catch (TriageException e) {
            if (!new UserRepository(node.database()).list().isEmpty()) {
                return Optional.empty(); // another node of the cluster, starting at the same time, made it
            }
            throw e;
        }
        // Written once the user exists, by the node that created it: two nodes never race on the file.
        Path file = data.resolve("initial-admin-password");
        Files.deleteIfExists(file);
        Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, new String(password) + "\n");
        LOG.info("no worklist user: created admin, its password in {} (owner-only)", file.toAbsolutePath());
        return Optional.of(file);
    }

    /** The first TRIAGE-coded message in the cause chain, else the outermost message. */
    static String rootTriageMessage(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TriageException) {
                return t.getMessage();
            }
        }
        return "node failed to start: " + e;
    }

    private void demo(PrintWriter out, TriageNode node, Path data) throws Exception {
        List<Set<PhantomFinding>> findings = List.of(Set.of(PhantomFinding.PLEURAL_EFFUSION, PhantomFinding.HEPATOMEGALY),
                Set.of(), Set.of(PhantomFinding.SPLENOMEGALY));
        DicomSender sender = new DicomSender("DEMO-MODALITY");
        RemoteAe self = new RemoteAe(node.config().aeTitle(), "127.0.0.1", node.port());
        for (int i = 0; i < demoStudies; i++) {
            Path folder = data.resolve("demo-input").resolve("study-" + (i + 1));
            List<Path> files;
            if (Files.isDirectory(folder)) {
                try (var list = Files.list(folder)) {
                    files = list.filter(p -> p.toString().endsWith(".dcm")).sorted().toList();
                }
            } else {
                var phantom = new PhantomGenerator().generate(new PhantomSpec(1000 + i, 256, 256, 96, 400.0 / 256, 3.75, 3.75,
                        ContrastPhase.PORTAL_VENOUS, findings.get(i % findings.size()), false));
                files = new CtSeriesWriter().write(phantom, SeriesWriteOptions.defaults()
                        .withPatientName("DEMO^STUDY" + (i + 1)), folder).files();
            }
            sender.store(self, files);
            out.printf("demo: sent study %d (%d CT instances) to %s over DICOM%n", i + 1, files.size(), self);
            out.flush();
        }
        Instant deadline = Instant.now().plus(Duration.ofMinutes(5));
        ResultRepository results = new ResultRepository(node.database());
        List<String> reported = new ArrayList<>();
        while (reported.size() < demoStudies && Instant.now().isBefore(deadline)) {
            for (ResultRepository.CurrentResult r : results.current()) {
                if (!reported.contains(r.srPath())) {
                    reported.add(r.srPath());
                    List<String> present = new ArrayList<>();
                    for (var f : new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.resultJson())
                            .path("findings")) {
                        if (f.path("present").asBoolean()) {
                            present.add(f.path("id").asText());
                        }
                    }
                    out.printf("demo: SR %s (suggested priority %s; findings called present: %s)%n", r.srPath(),
                            r.priority(), present.isEmpty() ? "none" : String.join(", ", present));
                    out.flush();
                }
            }
            Thread.sleep(500);
        }
        if (reported.size() < demoStudies) {
            throw new TriageException(org.cttriage.core.error.ErrorCode.TRIAGE_FAILED, "demo: only " + reported.size()
                    + " of " + demoStudies + " SRs appeared within 5 minutes; see the log");
        }
    }
}
