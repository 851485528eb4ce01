package org.cttriage.plugin.node;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;
import org.cttriage.core.audit.AuditOptions;
import org.cttriage.core.dicom.net.ListenerOptions;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.dicom.net.TlsClientOptions;
import org.cttriage.core.dicom.net.TlsOptions;
import org.cttriage.core.config.DurationSyntax;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.fhir.delivery.FhirDeliveryOptions;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.inference.EngineOptions;
import org.cttriage.core.node.DuplicatePolicy;
import org.cttriage.core.node.NonCtPolicy;
import org.cttriage.core.dicom.sr.SrOptions;
import org.cttriage.hl7.delivery.Hl7Options;

/**
 * The node's configuration: one properties file, every key with a documented default
 * ({@link Key}; docs/configuration.md is kept in step by a test). Validated once at start-up;
 * a bad value stops the node with {@code TRIAGE-0612} naming the key and what is allowed.
 */
public final class NodeSettings {
    /** Every configuration key, its default and what it means. */
    public enum Key {
        DATA_DIR("node.data-dir", "var", "Folder for the database, received instances (spool/) and SRs (results/); relative to the working directory."),
        DATABASE_URL("database.url", "", "JDBC URL of a PostgreSQL database (jdbc:postgresql://host:port/name) for the node's state; empty: the embedded H2 in node.data-dir/db."),
        DATABASE_USER("database.user", "", "PostgreSQL role the node connects as."),
        DATABASE_PASSWORD("database.password", "", "Password of that role (keep this file readable by the node's user only)."),
        DATABASE_POOL_SIZE("database.pool-size", "16", "Connections the node keeps open to PostgreSQL (1-200)."),
        AE_TITLE("dicom.ae-title", "CTTRIAGE", "Our AE title: the called AE title PACS use, and the calling AE title of our C-STOREs."),
        BIND_ADDRESS("dicom.bind-address", "127.0.0.1", "Address the listener binds; set the host's address (or 0.0.0.0) to accept a PACS on the network."),
        PORT("dicom.port", "11112", "TCP port of the listener (1-65535)."),
        ALLOWED_CALLING_AETS("dicom.allowed-calling-aets", "", "Comma-separated calling AE titles accepted; empty accepts any. Others are rejected at association."),
        MAX_ASSOCIATIONS("dicom.max-associations", "16", "Associations served at once; more are rejected (transient, local limit)."),
        MAX_ASSOCIATIONS_PER_HOST("dicom.max-associations-per-host", Integer.toString(ListenerOptions.DEFAULT_MAX_ASSOCIATIONS_PER_HOST), "Connections one remote host may hold at once, associated or still negotiating (1-1000); more are closed at once (TRIAGE-0619). Raise it for a PACS that opens more associations at once."),
        ARTIM_TIMEOUT("dicom.artim-timeout", DurationSyntax.format(ListenerOptions.DEFAULT_ARTIM_TIMEOUT), "Time a new connection has, in all, to deliver its A-ASSOCIATE-RQ (PS3.8 ARTIM timer, 1s to 10m); then it is closed (TRIAGE-0618)."),
        TRANSFER_SYNTAXES("dicom.transfer-syntaxes", String.join(",", ListenerOptions.DEFAULT_TRANSFER_SYNTAXES), "Accepted transfer syntax UIDs in preference order (subset of the default)."),
        MIN_FREE_DISK_MB("dicom.min-free-disk-mb", "1024", "Below this free space (MiB) on the data folder, associations are refused with a logged reason."),
        NON_CT("dicom.non-ct", "IGNORE", "Non-CT instances (SR, secondary capture, other modalities): IGNORE (answer Success, discard) or REJECT (0122H)."),
        DUPLICATES("dicom.duplicates", "IGNORE_IDENTICAL_KEEP_NEWER", "A SOP Instance UID received again: IGNORE_IDENTICAL_KEEP_NEWER (identical bytes ignored; different bytes replace and re-triage the series) or KEEP_FIRST."),
        TLS_KEY_STORE("dicom.tls.key-store", "", "PKCS#12 key store with the listener's certificate and private key; set to enable DICOM TLS (PS3.15 B.1). Empty: plain TCP."),
        TLS_KEY_STORE_PASSWORD("dicom.tls.key-store-password", "", "Password of the key store (and of its key)."),
        TLS_TRUST_STORE("dicom.tls.trust-store", "", "PKCS#12 trust store of the client certificates (or their CAs) accepted; needed when client certificates are required."),
        TLS_TRUST_STORE_PASSWORD("dicom.tls.trust-store-password", "", "Password of the trust store."),
        TLS_CLIENT_AUTH("dicom.tls.client-auth", "NONE", "Client certificate check: NONE or REQUIRED (the peer must present a certificate the trust store accepts)."),
        SPOOL_RETENTION("spool.retention", DurationSyntax.format(TriageNode.DEFAULT_SPOOL_RETENTION), "Time after its last instance that a finished series (triaged or not triageable, every delivery ended: delivered, superseded or discarded) keeps its instance files in the spool; then they are removed, their records kept (0 to 87600h; 0 keeps them for ever)."),
        QUIET_PERIOD("assembly.quiet-period", "10s", "A study is complete when no instance of it arrived for this long (1s to 1h)."),
        DESTINATIONS("delivery.dicom-destinations", "", "Comma-separated AET@host:port the SR is C-STOREd to; empty = no PACS (serve then feeds itself demo studies)."),
        DELIVERY_TLS_TRUST_STORE("delivery.tls.trust-store", "", "PKCS#12 trust store of the DICOM destinations' certificates (or their CAs); set to send to every DICOM destination (and echo --config) over DICOM TLS, BCP 195 profile, checking that the certificate names the destination's host. Empty: plain TCP."),
        DELIVERY_TLS_TRUST_STORE_PASSWORD("delivery.tls.trust-store-password", "", "Password of that trust store."),
        DELIVERY_TLS_KEY_STORE("delivery.tls.key-store", "", "PKCS#12 key store with the node's client certificate and key, presented to destinations that ask for one; empty: none. Needs delivery.tls.trust-store."),
        DELIVERY_TLS_KEY_STORE_PASSWORD("delivery.tls.key-store-password", "", "Password of that key store (and of its key)."),
        DELIVERY_TLS_PINNED_CERTIFICATES("delivery.tls.pinned-certificates", "", "Comma-separated AET=SHA-256 fingerprint (64 hex digits, colons allowed) of a destination's certificate: that destination must present exactly this certificate, checked instead of its host name (for a PACS addressed by an IP its certificate lacks); the trust store must still trust it. Needs delivery.tls.trust-store."),
        MAX_ATTEMPTS("delivery.max-attempts", "20", "Attempts per DICOM destination before the result goes to the dead letters (1-100; the default rides out about an hour's outage)."),
        INITIAL_BACKOFF("delivery.initial-backoff", "2s", "Wait after the first failed attempt (0 to 24h)."),
        BACKOFF_MULTIPLIER("delivery.backoff-multiplier", "2", "Growth of the delay per attempt (1-10)."),
        MAX_BACKOFF("delivery.max-backoff", "5m", "Longest wait between attempts, also the cap of a destination's own wait (1s to 24h)."),
        MODEL("model.path", "models/ctglip-ref", "Model package folder; relative paths resolve against the installation."),
        DEVICE("model.device", "AUTO", "Inference device: AUTO, CPU or CUDA."),
        SR_SERIES_NUMBER("sr.series-number", "9901", "Series Number of the SR series."),
        INSTITUTION("sr.institution", "", "Institution Name written in the SR (empty: none)."),
        REJECT_SUPERSEDED("sr.reject-superseded", "true", "true: a result that supersedes another also sends an IHE IOCM rejection note (KOS titled (113001, DCM, \"Rejected for Quality Reasons\")) withdrawing the superseded result's SR, SEG and KOS, after the new ones; false: the superseded objects stay, and only the new SR names its predecessor."),
        HTTP_BIND_ADDRESS("http.bind-address", "127.0.0.1", "Address the node's HTTP server (health checks) binds; the host's address to let a monitoring system reach it."),
        HTTP_PORT("http.port", "8080", "TCP port of the node's HTTP server: GET /health/live, /health/ready, /metrics and /status (0: any free port, printed at start)."),
        HTTP_TLS_KEY_STORE("http.tls.key-store", "", "PKCS#12 key store with the HTTP server's key and certificate: set to serve HTTPS only (TLS 1.2/1.3), which the worklist needs beyond the node's own machine (its session cookie is then Secure). Empty: plain HTTP."),
        HTTP_TLS_KEY_STORE_PASSWORD("http.tls.key-store-password", "", "Password of that key store (and of its key)."),
        FHIR_PRIORITY_TARGET("fhir.priority-target", "none", "Where the study's reading priority also goes on the FHIR server: none; task (one Task per study, replaced when the priority changes); or service-request (raise ServiceRequest.priority of the order that carries the study's accession number, never lowering it). docs/fhir-mapping.md. Needs fhir.url. Replaces fhir.priority-task (true reads as task)."),
        FHIR_ACCESSION_SYSTEM("fhir.accession-system", "", "fhir.priority-target=service-request: the identifier system of the accession numbers on the FHIR server (e.g. urn:oid:<issuer>); the order is searched as identifier=<system>|<accession>. Empty: by the identifier's type, identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|ACSN|<accession>."),
        WORKLIST_SEVERITY("worklist.severity", "", "The site's severity of a finding over the model dictionary's (FINDING=PRIORITY, comma-separated, e.g. aortic_aneurysm=stat): a finding called present raises the study's priority to its severity (routine, urgent, asap, stat)."),
        WORKLIST_OVERDUE("worklist.overdue", "stat=15m,asap=1h,urgent=4h,routine=24h", "How long a study may wait unreviewed at each priority before the worklist marks it overdue (PRIORITY=DURATION, comma-separated; a priority left out is never overdue)."),
        WORKLIST_SESSION_IDLE("worklist.session-idle", "12h", "A worklist session unused this long is logged out (5m to 7d)."),
        HEALTH_STUCK_DELIVERY("health.stuck-delivery", "1h", "A delivery still pending this long after its result was recorded makes /health/ready answer 503 (1m to 7d)."),
        LOG_PATIENT_DATA("log.patient-data", "false", "Troubleshooting only: true adds one log line per result with the patient's ID, name, birth date and accession number (logger org.cttriage.patientdata). Off, the log carries UIDs and never patient data. Turning it on is logged at start as a security event (TRIAGE-0690)."),
        AUDIT_SYSLOG_HOST("audit.syslog.host", "", "Host name or address of the syslog collector (IHE Audit Record Repository) the audit trail is sent to; empty: no collector. See docs/operations.md, Audit trail."),
        AUDIT_SYSLOG_PORT("audit.syslog.port", "", "Its port (1-65535); empty: 6514 for tls, 514 for tcp and udp."),
        AUDIT_SYSLOG_PROTOCOL("audit.syslog.protocol", "TLS", "TLS (RFC 5425, PS3.15 A.6), TCP (RFC 6587 octet counting) or UDP (RFC 5426, PS3.15 A.7; no delivery guarantee, messages up to 65,507 bytes)."),
        AUDIT_SYSLOG_TLS_TRUST_STORE("audit.syslog.tls.trust-store", "", "PKCS#12 trust store of the collector's certificate or its CA; required with protocol TLS (the certificate must also name audit.syslog.host)."),
        AUDIT_SYSLOG_TLS_TRUST_STORE_PASSWORD("audit.syslog.tls.trust-store-password", "", "Password of that trust store."),
        AUDIT_SYSLOG_TLS_KEY_STORE("audit.syslog.tls.key-store", "", "PKCS#12 key store with the node's client certificate and key, presented to the collector (IHE ATNA authenticates both ends); empty: none."),
        AUDIT_SYSLOG_TLS_KEY_STORE_PASSWORD("audit.syslog.tls.key-store-password", "", "Password of that key store (and of its key)."),
        AUDIT_FILE("audit.file", "", "File every audit message is also appended to, one XML document per line (relative to the working directory); empty: none. The audit trail is on when this or audit.syslog.host is set."),
        AUDIT_SPOOL_MAX_MB("audit.spool-max-mb", "256", "Size limit (MiB, 1-65536) of the audit spool (node.data-dir/audit-spool) where messages wait for the collector; when full, new messages are dropped and that is audited (TRIAGE-0702)."),
        AUDIT_SOURCE_ID("audit.source-id", "", "AuditSourceID of every audit message; empty: the AE title."),
        AUDIT_ENTERPRISE_SITE_ID("audit.enterprise-site-id", "", "AuditEnterpriseSiteID of every audit message (the hospital or site); empty: not written."),
        NODE_ROLE("node.role", "all", "all (the single node), receiver (DICOM listener and HTTP API) or worker (triage and deliveries): the multi-node mode, which needs database.url (PostgreSQL), cluster.broker-url and a node.data-dir every node of the cluster shares (docs/architecture.md, Scaling out). serve --role overrides it."),
        CLUSTER_BROKER_URL("cluster.broker-url", "", "The Artemis broker of the multi-node mode, a CORE protocol URL such as tcp://broker:61616 (Artemis URL syntax: a primary/backup pair as (tcp://a:61616,tcp://b:61616)?ha=true&reconnectAttempts=-1)."),
        CLUSTER_BROKER_USER("cluster.broker-user", "", "The broker user the node logs in as."),
        CLUSTER_BROKER_PASSWORD("cluster.broker-password", "", "Its password (keep this file readable by the node's user only)."),
        CLUSTER_NODE_NAME("cluster.node-name", "", "This node's name in the log; empty: the host name and the process id."),
        CLUSTER_LEADER_CHECK("cluster.leader-check", "PT5S", "How often each node tries to become the leader of the singleton duties (and the leader checks it still holds its database session): a dead leader is replaced within about this long (PT1S-PT1M)."),
        CLUSTER_REQUEUE_AFTER("cluster.requeue-after", "PT30M", "A study queued for triage and still not triaged this long after is queued again (its message or its worker was lost); PT1M-PT24H."),
        CLUSTER_TRIAGE_CONSUMERS("cluster.triage-consumers", "1", "Studies a worker triages at once (1-16); one per GPU or per two cores is a start."),
        CLUSTER_DELIVERY_CLAIM("cluster.delivery-claim", "PT5M", "How long a worker's claim on a delivery attempt lasts: it must exceed the longest attempt (DICOM: 10 s to connect and up to 60 s per answer; FHIR and HL7: their timeouts), and it is how long a delivery claimed by a worker that died waits for another (PT10S-PT1H).");

        private final String name;
        private final String defaultValue;
        private final String description;

        Key(String name, String defaultValue, String description) {
            this.name = name;
            this.defaultValue = defaultValue;
            this.description = description;
        }

        public String key() {
            return name;
        }

        public String defaultValue() {
            return defaultValue;
        }

        public String description() {
            return description;
        }
    }

    /**
     * Keys of earlier versions that counted whole seconds or hours: still read, as their duration key, so that an
     * installed configuration keeps working; {@link #notes()} says what to write instead.
     */
    private static final Map<String, Key> RENAMED = Map.of(
            "assembly.quiet-period-seconds", Key.QUIET_PERIOD,
            "dicom.artim-timeout-seconds", Key.ARTIM_TIMEOUT,
            "spool.retention-hours", Key.SPOOL_RETENTION,
            "delivery.initial-backoff-seconds", Key.INITIAL_BACKOFF,
            "delivery.max-backoff-seconds", Key.MAX_BACKOFF);

    /** The earlier {@code fhir.priority-task=true|false}, read as {@code fhir.priority-target=task|none}. */
    private static final String DEPRECATED_PRIORITY_TASK = "fhir.priority-task";

    /** Where the study's reading priority goes on the FHIR server ({@code fhir.priority-target}). */
    public enum FhirPriorityTarget {
        /** Nowhere: only the DiagnosticReport bundle is sent. */
        NONE("none"),
        /** A Task per study (docs/fhir-mapping.md). */
        TASK("task"),
        /** The order's ServiceRequest.priority, raised and never lowered. */
        SERVICE_REQUEST("service-request");

        private final String value;

        FhirPriorityTarget(String value) {
            this.value = value;
        }

        /** As written in the configuration. */
        public String value() {
            return value;
        }
    }

    private final Map<String, String> values;
    private final Path home;
    private final List<String> notes;

    private NodeSettings(Map<String, String> values, Path home, List<String> notes) {
        this.values = values;
        this.home = home;
        this.notes = List.copyOf(notes);
    }

    /** Every default: the settings of a node with no configuration file. */
    public static NodeSettings defaults() {
        return new NodeSettings(Map.of(), Path.of("."), List.of());
    }

    /** What the configuration file should say differently (keys of earlier versions), for the start-up lines. */
    public List<String> notes() {
        return notes;
    }

    /** Reads {@code file} (may be null: all defaults), rejecting unknown keys. */
    public static NodeSettings load(Path file, Path home) throws TriageException {
        Map<String, String> values = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();
        if (file != null) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException e) {
                throw new TriageException(ErrorCode.CONFIGURATION_INVALID, "cannot read " + file + ": " + e.getMessage(), e);
            }
            Set<String> known = new LinkedHashSet<>();
            Arrays.stream(Key.values()).forEach(k -> known.add(k.key()));
            // The fhir.* keys are FhirDeliveryOptions' (one home for their defaults); a misspelled one
            // stops start-up like any other, instead of silently leaving its default in force.
            FhirDeliveryOptions.CONFIG_KEYS.forEach(k -> known.add(k.key()));
            // Likewise the hl7.* keys, Hl7Options' (docs/hl7-mapping.md).
            Hl7Options.CONFIG_KEYS.forEach(k -> known.add(k.key()));
            // And the ups.* keys, UpsOptions' (docs/ups-mapping.md).
            org.cttriage.ups.UpsOptions.CONFIG_KEYS.forEach(k -> known.add(k.key()));
            for (String name : p.stringPropertyNames()) {
                Key renamed = RENAMED.get(name);
                if (renamed != null) {
                    String v = p.getProperty(name).trim();
                    if (p.getProperty(renamed.key()) != null) {
                        throw new TriageException(ErrorCode.CONFIGURATION_INVALID, file + " sets both " + name + " and "
                                + renamed.key() + "; keep " + renamed.key());
                    }
                    if (!v.matches("\\d{1,9}")) {
                        throw new TriageException(ErrorCode.CONFIGURATION_INVALID, name + " = '" + v + "' is not allowed:"
                                + " a whole number (better: " + renamed.key() + " with a duration such as 10s)");
                    }
                    String unit = name.endsWith("-hours") ? "h" : "s";
                    values.put(renamed.key(), v + unit);
                    notes.add(name + " is the key of an earlier version: write " + renamed.key() + "=" + v + unit);
                    continue;
                }
                if (DEPRECATED_PRIORITY_TASK.equals(name)) {
                    String v = p.getProperty(name).trim().toLowerCase(Locale.ROOT);
                    if (p.getProperty(Key.FHIR_PRIORITY_TARGET.key()) != null) {
                        throw new TriageException(ErrorCode.CONFIGURATION_INVALID, file + " sets both " + name + " and "
                                + Key.FHIR_PRIORITY_TARGET.key() + "; keep " + Key.FHIR_PRIORITY_TARGET.key());
                    }
                    if (!v.equals("true") && !v.equals("false")) {
                        throw new TriageException(ErrorCode.CONFIGURATION_INVALID, name + " = '" + v + "' is not allowed:"
                                + " true or false (better: " + Key.FHIR_PRIORITY_TARGET.key() + "=task or none)");
                    }
                    String target = v.equals("true") ? "task" : "none";
                    values.put(Key.FHIR_PRIORITY_TARGET.key(), target);
                    notes.add(name + " is the key of an earlier version: write " + Key.FHIR_PRIORITY_TARGET.key() + "="
                            + target);
                    continue;
                }
                if (!known.contains(name)) {
                    throw new TriageException(ErrorCode.CONFIGURATION_INVALID, "unknown key '" + name + "' in " + file
                            + "; keys are listed in docs/configuration.md");
                }
                values.put(name, p.getProperty(name).trim());
            }
        }
        return new NodeSettings(values, home, notes);
    }

    /** Raw lookup (defaults applied), also for the fhir.* and hl7.* keys (their defaults are their options' own). */
    public String get(String key) {
        for (Key k : Key.values()) {
            if (k.key().equals(key)) {
                return values.getOrDefault(key, k.defaultValue());
            }
        }
        return values.get(key);
    }

    public String get(Key key) {
        return values.getOrDefault(key.key(), key.defaultValue());
    }

    /** The fhir.* lookup for the FHIR delivery options. */
    public Function<String, String> fhirLookup() {
        return values::get;
    }

    /** The hl7.* lookup for the HL7 delivery options. */
    public Function<String, String> hl7Lookup() {
        return values::get;
    }

    /** The ups.* lookup for the UPS-RS options. */
    public Function<String, String> upsLookup() {
        return values::get;
    }

    /** True when a UPS-RS server is configured (ups.url). */
    public boolean upsConfigured() {
        String url = values.get("ups.url");
        return url != null && !url.isBlank();
    }

    /** True when a RIS is configured (hl7.host). */
    public boolean hl7Configured() {
        String host = values.get("hl7.host");
        return host != null && !host.isBlank();
    }

    /** Where the study's priority goes on the FHIR server; needs fhir.url unless none. */
    public FhirPriorityTarget fhirPriorityTarget() throws TriageException {
        String v = get(Key.FHIR_PRIORITY_TARGET).toLowerCase(Locale.ROOT);
        for (FhirPriorityTarget t : FhirPriorityTarget.values()) {
            if (t.value().equals(v)) {
                if (t != FhirPriorityTarget.NONE && !fhirConfigured()) {
                    throw invalid(Key.FHIR_PRIORITY_TARGET, "none: fhir.url is not set, so there is no FHIR server");
                }
                if (t != FhirPriorityTarget.SERVICE_REQUEST && !get(Key.FHIR_ACCESSION_SYSTEM).isEmpty()) {
                    throw invalid(Key.FHIR_ACCESSION_SYSTEM, "empty: it is read with fhir.priority-target=service-request only");
                }
                return t;
            }
        }
        throw invalid(Key.FHIR_PRIORITY_TARGET, "none, task or service-request");
    }

    /** The accession numbers' identifier system on the FHIR server, "" to search by identifier type. */
    public String fhirAccessionSystem() throws TriageException {
        String v = get(Key.FHIR_ACCESSION_SYSTEM);
        if (!v.isEmpty() && (v.contains("|") || !v.matches("^(urn:|https?://)\\S+"))) {
            throw invalid(Key.FHIR_ACCESSION_SYSTEM, "empty or a URI (urn:…, http://…, https://…) without '|'");
        }
        return v;
    }

    /** The destinations that are not DICOM peers, as configured: FHIR (and its priority output), HL7, then UPS-RS. */
    public List<Destination> otherDestinations() throws TriageException {
        List<Destination> others = new ArrayList<>();
        FhirPriorityTarget target = fhirPriorityTarget();
        if (fhirConfigured()) {
            others.add(Destination.fhir());
            if (target == FhirPriorityTarget.TASK) {
                others.add(Destination.fhirTask());
            } else if (target == FhirPriorityTarget.SERVICE_REQUEST) {
                fhirAccessionSystem();
                others.add(Destination.fhirServiceRequest());
            }
        }
        if (hl7Configured()) {
            others.add(Destination.hl7());
        }
        if (upsConfigured()) {
            others.add(Destination.ups());
        }
        return others;
    }

    /** True when a FHIR server is configured. */
    public boolean fhirConfigured() {
        String url = values.get("fhir.url");
        return url != null && !url.isBlank();
    }

    private TriageException invalid(Key key, String allowed) {
        return new TriageException(ErrorCode.CONFIGURATION_INVALID, key.key() + " = '" + get(key) + "' is not allowed: "
                + allowed);
    }

    private int integer(Key key, int min, int max) throws TriageException {
        try {
            int v = Integer.parseInt(get(key));
            if (v < min || v > max) {
                throw invalid(key, "an integer from " + min + " to " + max);
            }
            return v;
        } catch (NumberFormatException e) {
            throw invalid(key, "an integer from " + min + " to " + max);
        }
    }

    private Duration duration(Key key, Duration min, Duration max) throws TriageException {
        String allowed = "a duration from " + DurationSyntax.format(min) + " to " + DurationSyntax.format(max)
                + " (500ms, 10s, 5m, 72h or ISO-8601 PT10S)";
        Duration d;
        try {
            d = DurationSyntax.parse(key.key(), get(key));
        } catch (IllegalArgumentException e) {
            throw invalid(key, allowed);
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw invalid(key, allowed);
        }
        return d;
    }

    private double decimal(Key key, double min, double max) throws TriageException {
        try {
            double v = Double.parseDouble(get(key));
            if (!(v >= min && v <= max)) {
                throw invalid(key, "a number from " + min + " to " + max);
            }
            return v;
        } catch (NumberFormatException e) {
            throw invalid(key, "a number from " + min + " to " + max);
        }
    }

    private <E extends Enum<E>> E choice(Key key, Class<E> type) throws TriageException {
        try {
            return Enum.valueOf(type, get(key).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw invalid(key, "one of " + Arrays.toString(type.getEnumConstants()));
        }
    }

    /** Where the node's HTTP server listens (port 0: any free port). */
    public java.net.InetSocketAddress httpAddress() throws TriageException {
        int port = integer(Key.HTTP_PORT, 0, 65535);
        try {
            return new java.net.InetSocketAddress(java.net.InetAddress.getByName(get(Key.HTTP_BIND_ADDRESS)), port);
        } catch (IOException e) {
            throw invalid(Key.HTTP_BIND_ADDRESS, "an IP address or resolvable host name");
        }
    }

    /** The HTTP server's HTTPS key material, or empty for plain HTTP. */
    public Optional<NodeHttpServer.Tls> httpTls() throws TriageException {
        String store = get(Key.HTTP_TLS_KEY_STORE);
        if (store.isEmpty()) {
            return Optional.empty();
        }
        Path path = home.resolve(store);
        char[] password = get(Key.HTTP_TLS_KEY_STORE_PASSWORD).toCharArray();
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(path)) {
            java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
            ks.load(in, password);
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new TriageException(ErrorCode.TLS_KEY_MATERIAL_UNREADABLE, Key.HTTP_TLS_KEY_STORE.key() + " " + path
                    + " cannot be opened as PKCS#12 with its password: " + e.getMessage(), e);
        }
        return Optional.of(new NodeHttpServer.Tls(path, password));
    }

    /** How long a study may wait unreviewed at each priority. */
    public java.util.Map<org.cttriage.core.domain.Priority, Duration> worklistOverdue() throws TriageException {
        try {
            return org.cttriage.plugin.web.WorklistApi.overdue(get(Key.WORKLIST_OVERDUE));
        } catch (IllegalArgumentException e) {
            throw invalid(Key.WORKLIST_OVERDUE, "PRIORITY=DURATION pairs, e.g. stat=15m,asap=1h (" + e.getMessage() + ")");
        }
    }

    /** The site's finding severities (finding id → priority); the ids are checked against the model at start. */
    public java.util.Map<String, org.cttriage.core.domain.Priority> worklistSeverity() throws TriageException {
        java.util.Map<String, org.cttriage.core.domain.Priority> out = new LinkedHashMap<>();
        for (String part : get(Key.WORKLIST_SEVERITY).split(",")) {
            if (part.isBlank()) {
                continue;
            }
            String[] kv = part.split("=", 2);
            try {
                if (kv.length != 2 || kv[0].isBlank()) {
                    throw new IllegalArgumentException("each entry is FINDING=PRIORITY");
                }
                out.put(kv[0].trim(), org.cttriage.core.domain.Priority.fromFhirCode(kv[1].trim()));
            } catch (IllegalArgumentException e) {
                throw invalid(Key.WORKLIST_SEVERITY, "FINDING=PRIORITY pairs, e.g. aortic_aneurysm=stat ("
                        + e.getMessage() + ")");
            }
        }
        return out;
    }

    /** How long an unused worklist session lasts. */
    public Duration worklistSessionIdle() throws TriageException {
        return duration(Key.WORKLIST_SESSION_IDLE, Duration.ofMinutes(5), Duration.ofDays(7));
    }

    /** Whether the troubleshooting switch puts patient data in the operational log ({@link PatientDataLog}). */
    public boolean logPatientData() throws TriageException {
        return flag(Key.LOG_PATIENT_DATA);
    }

    private boolean flag(Key key) throws TriageException {
        return switch (get(key).toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw invalid(key, "true or false");
        };
    }

    /**
     * The validated audit trail settings.
     *
     * @param options where messages go (disabled when neither a collector nor a file is set)
     * @param sourceId AuditSourceID
     * @param enterpriseSiteId AuditEnterpriseSiteID, when set
     */
    public record Audit(AuditOptions options, String sourceId, Optional<String> enterpriseSiteId) {
    }

    /** The audit trail's keys, validated: {@code audit.*}. */
    public Audit audit() throws TriageException {
        String host = get(Key.AUDIT_SYSLOG_HOST);
        AuditOptions.Protocol protocol = choice(Key.AUDIT_SYSLOG_PROTOCOL, AuditOptions.Protocol.class);
        String trust = get(Key.AUDIT_SYSLOG_TLS_TRUST_STORE);
        String keyStore = get(Key.AUDIT_SYSLOG_TLS_KEY_STORE);
        Optional<AuditOptions.Syslog> syslog = Optional.empty();
        if (host.isEmpty()) {
            for (Key k : List.of(Key.AUDIT_SYSLOG_PORT, Key.AUDIT_SYSLOG_TLS_TRUST_STORE, Key.AUDIT_SYSLOG_TLS_KEY_STORE)) {
                if (!get(k).isEmpty()) {
                    throw invalid(Key.AUDIT_SYSLOG_HOST, "a host name or address: " + k.key() + " is set but no collector");
                }
            }
        } else {
            int port = get(Key.AUDIT_SYSLOG_PORT).isEmpty() ? protocol.defaultPort()
                    : integer(Key.AUDIT_SYSLOG_PORT, 1, 65535);
            Optional<AuditOptions.Tls> tls = Optional.empty();
            if (protocol == AuditOptions.Protocol.TLS) {
                if (trust.isEmpty() || !Files.isReadable(Path.of(trust))) {
                    throw invalid(Key.AUDIT_SYSLOG_TLS_TRUST_STORE, "a readable PKCS#12 file: audit.syslog.protocol is TLS");
                }
                if (!keyStore.isEmpty() && !Files.isReadable(Path.of(keyStore))) {
                    throw invalid(Key.AUDIT_SYSLOG_TLS_KEY_STORE, "empty or a readable PKCS#12 file");
                }
                tls = Optional.of(new AuditOptions.Tls(Path.of(trust), get(Key.AUDIT_SYSLOG_TLS_TRUST_STORE_PASSWORD)
                        .toCharArray(), keyStore.isEmpty() ? Optional.empty() : Optional.of(Path.of(keyStore)),
                        get(Key.AUDIT_SYSLOG_TLS_KEY_STORE_PASSWORD).toCharArray()));
            } else if (!trust.isEmpty() || !keyStore.isEmpty()) {
                throw invalid(Key.AUDIT_SYSLOG_PROTOCOL, "TLS: audit.syslog.tls.* key material is given");
            }
            syslog = Optional.of(new AuditOptions.Syslog(host, port, protocol, tls));
        }
        String file = get(Key.AUDIT_FILE);
        long spoolMax = (long) integer(Key.AUDIT_SPOOL_MAX_MB, 1, 65536) << 20;
        String site = get(Key.AUDIT_ENTERPRISE_SITE_ID);
        String source = get(Key.AUDIT_SOURCE_ID).isEmpty() ? get(Key.AE_TITLE) : get(Key.AUDIT_SOURCE_ID);
        return new Audit(new AuditOptions(syslog, file.isEmpty() ? Optional.empty() : Optional.of(Path.of(file)),
                dataDirectory().resolve("audit-spool"), spoolMax, AuditOptions.Timing.defaults()), source,
                site.isEmpty() ? Optional.empty() : Optional.of(site));
    }

    /** How long a pending delivery may wait before the node reports itself not ready. */
    public Duration stuckDelivery() throws TriageException {
        return duration(Key.HEALTH_STUCK_DELIVERY, Duration.ofMinutes(1), Duration.ofDays(7));
    }

    public Path dataDirectory() {
        return Path.of(get(Key.DATA_DIR));
    }

    public Path modelPath() {
        Path p = Path.of(get(Key.MODEL));
        return p.isAbsolute() ? p : home.resolve(p);
    }

    public EngineOptions.Device device() throws TriageException {
        return choice(Key.DEVICE, EngineOptions.Device.class);
    }

    public List<Destination> destinations() throws TriageException {
        List<Destination> list = new ArrayList<>();
        List<String> aeTitles = new ArrayList<>();
        for (String d : get(Key.DESTINATIONS).split(",")) {
            if (d.isBlank()) {
                continue;
            }
            RemoteAe peer;
            try {
                peer = RemoteAe.parse(d);
            } catch (IllegalArgumentException e) {
                throw invalid(Key.DESTINATIONS, "comma-separated AET@host:port (" + e.getMessage() + ")");
            }
            aeTitles.add(peer.aeTitle());
            list.add(Destination.dicom(peer.aeTitle().toLowerCase(Locale.ROOT), peer, outboundTls(peer.aeTitle())));
        }
        for (String pinned : pins().keySet()) {
            if (!aeTitles.contains(pinned)) {
                throw invalid(Key.DELIVERY_TLS_PINNED_CERTIFICATES, "pins for destinations only; " + pinned
                        + " is not in " + Key.DESTINATIONS.key());
            }
        }
        return list;
    }

    /**
     * TLS for the node's associations to {@code aeTitle} (a destination, or the peer of {@code
     * echo}): empty when {@code delivery.tls.trust-store} is not set; the pinned certificate
     * when one is configured for that AE title, else the host name check.
     */
    public Optional<TlsClientOptions> outboundTls(String aeTitle) throws TriageException {
        String trust = get(Key.DELIVERY_TLS_TRUST_STORE);
        String keyStore = get(Key.DELIVERY_TLS_KEY_STORE);
        Map<String, TlsClientOptions.Pinned> pins = pins();
        if (trust.isEmpty()) {
            if (!keyStore.isEmpty() || !pins.isEmpty()) {
                throw invalid(Key.DELIVERY_TLS_TRUST_STORE, "a PKCS#12 trust store: outbound TLS settings are given"
                        + " but no trust store");
            }
            return Optional.empty();
        }
        if (!Files.isReadable(Path.of(trust))) {
            throw invalid(Key.DELIVERY_TLS_TRUST_STORE, "a readable PKCS#12 file");
        }
        if (!keyStore.isEmpty() && !Files.isReadable(Path.of(keyStore))) {
            throw invalid(Key.DELIVERY_TLS_KEY_STORE, "empty or a readable PKCS#12 file");
        }
        TlsClientOptions.PeerCheck check = pins.containsKey(aeTitle) ? pins.get(aeTitle)
                : new TlsClientOptions.HostName();
        return Optional.of(new TlsClientOptions(keyStore.isEmpty() ? Optional.empty() : Optional.of(Path.of(keyStore)),
                get(Key.DELIVERY_TLS_KEY_STORE_PASSWORD).toCharArray(), Path.of(trust),
                get(Key.DELIVERY_TLS_TRUST_STORE_PASSWORD).toCharArray(), check));
    }

    private Map<String, TlsClientOptions.Pinned> pins() throws TriageException {
        Map<String, TlsClientOptions.Pinned> pins = new LinkedHashMap<>();
        for (String entry : get(Key.DELIVERY_TLS_PINNED_CERTIFICATES).split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            int eq = entry.indexOf('=');
            String allowed = "comma-separated AET=SHA-256 fingerprint (64 hex digits, colons allowed), one per AE title";
            if (eq < 1) {
                throw invalid(Key.DELIVERY_TLS_PINNED_CERTIFICATES, allowed);
            }
            try {
                if (pins.put(entry.substring(0, eq).trim(), new TlsClientOptions.Pinned(entry.substring(eq + 1).trim()))
                        != null) {
                    throw invalid(Key.DELIVERY_TLS_PINNED_CERTIFICATES, allowed);
                }
            } catch (IllegalArgumentException e) {
                throw invalid(Key.DELIVERY_TLS_PINNED_CERTIFICATES, allowed + " (" + e.getMessage() + ")");
            }
        }
        return pins;
    }

    private Optional<TlsOptions> tls() throws TriageException {
        String keyStore = get(Key.TLS_KEY_STORE);
        TlsOptions.ClientAuth clientAuth = choice(Key.TLS_CLIENT_AUTH, TlsOptions.ClientAuth.class);
        if (keyStore.isEmpty()) {
            if (clientAuth != TlsOptions.ClientAuth.NONE || !get(Key.TLS_TRUST_STORE).isEmpty()) {
                throw invalid(Key.TLS_KEY_STORE, "a PKCS#12 file: TLS client settings are given but no key store");
            }
            return Optional.empty();
        }
        if (!Files.isReadable(Path.of(keyStore))) {
            throw invalid(Key.TLS_KEY_STORE, "a readable PKCS#12 file");
        }
        String trust = get(Key.TLS_TRUST_STORE);
        if (!trust.isEmpty() && !Files.isReadable(Path.of(trust))) {
            throw invalid(Key.TLS_TRUST_STORE, "a readable PKCS#12 file");
        }
        if (clientAuth == TlsOptions.ClientAuth.REQUIRED && trust.isEmpty()) {
            throw invalid(Key.TLS_TRUST_STORE, "a PKCS#12 trust store, required by dicom.tls.client-auth=REQUIRED");
        }
        return Optional.of(new TlsOptions(Path.of(keyStore), get(Key.TLS_KEY_STORE_PASSWORD).toCharArray(),
                trust.isEmpty() ? Optional.empty() : Optional.of(Path.of(trust)),
                get(Key.TLS_TRUST_STORE_PASSWORD).toCharArray(), clientAuth));
    }

    /**
     * Where the node keeps its state.
     *
     * @param url a jdbc:postgresql URL, or empty for the embedded H2
     * @param user PostgreSQL role
     * @param password its password
     * @param poolSize connections kept open
     */
    public record Database(String url, String user, String password, int poolSize) {
    }

    /** The validated database settings. */
    public Database database() throws TriageException {
        String url = get(Key.DATABASE_URL);
        if (!url.isEmpty() && !url.startsWith("jdbc:postgresql://")) {
            throw invalid(Key.DATABASE_URL, "empty (the embedded H2) or a jdbc:postgresql://host:port/database URL");
        }
        return new Database(url, get(Key.DATABASE_USER), get(Key.DATABASE_PASSWORD),
                integer(Key.DATABASE_POOL_SIZE, 1, 200));
    }

    /** The validated multi-node settings; {@code roleOverride} (serve --role) wins over {@code node.role}. */
    public ClusterConfig cluster(Optional<String> roleOverride) throws TriageException {
        String roleName = roleOverride.orElse(get(Key.NODE_ROLE));
        org.cttriage.core.node.NodeRole role;
        try {
            role = org.cttriage.core.node.NodeRole.of(roleName);
        } catch (IllegalArgumentException e) {
            throw invalid(Key.NODE_ROLE, "all, receiver or worker");
        }
        if (role == org.cttriage.core.node.NodeRole.ALL) {
            return ClusterConfig.SINGLE;
        }
        if (database().url().isEmpty()) {
            throw new TriageException(ErrorCode.CONFIGURATION_INVALID, "node.role " + roleName
                    + " needs database.url: every node of a cluster shares one PostgreSQL database (the embedded H2"
                    + " belongs to one process)");
        }
        String broker = get(Key.CLUSTER_BROKER_URL);
        if (!broker.startsWith("tcp://") && !broker.startsWith("(tcp://")) {
            throw invalid(Key.CLUSTER_BROKER_URL, "an Artemis CORE URL, tcp://host:port (node.role " + roleName
                    + " needs the broker)");
        }
        String name = get(Key.CLUSTER_NODE_NAME);
        if (name.isEmpty()) {
            String host;
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                host = "localhost";
            }
            name = host + "-" + ProcessHandle.current().pid();
        }
        return new ClusterConfig(role, broker, get(Key.CLUSTER_BROKER_USER), get(Key.CLUSTER_BROKER_PASSWORD), name,
                duration(Key.CLUSTER_LEADER_CHECK, Duration.ofSeconds(1), Duration.ofMinutes(1)),
                duration(Key.CLUSTER_REQUEUE_AFTER, Duration.ofMinutes(1), Duration.ofHours(24)),
                integer(Key.CLUSTER_TRIAGE_CONSUMERS, 1, 16),
                duration(Key.CLUSTER_DELIVERY_CLAIM, Duration.ofSeconds(10), Duration.ofHours(1)));
    }

    /** The validated node configuration; {@code extraDestinations} are appended (FHIR). */
    public TriageNode.Config nodeConfig(List<Destination> extraDestinations) throws TriageException {
        String ae = get(Key.AE_TITLE);
        if (ae.isEmpty() || ae.length() > 16 || ae.contains("\\")) {
            throw invalid(Key.AE_TITLE, "1-16 characters, no backslash");
        }
        List<String> syntaxes = Arrays.stream(get(Key.TRANSFER_SYNTAXES).split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).toList();
        if (syntaxes.isEmpty() || !ListenerOptions.SUPPORTED_TRANSFER_SYNTAXES.containsAll(syntaxes)) {
            throw invalid(Key.TRANSFER_SYNTAXES, "a non-empty subset of " + ListenerOptions.DEFAULT_TRANSFER_SYNTAXES);
        }
        Set<String> allowed = new LinkedHashSet<>();
        for (String a : get(Key.ALLOWED_CALLING_AETS).split(",")) {
            if (!a.isBlank()) {
                allowed.add(a.trim());
            }
        }
        try {
            java.net.InetAddress.getByName(get(Key.BIND_ADDRESS));
        } catch (IOException e) {
            throw invalid(Key.BIND_ADDRESS, "an IP address or resolvable host name");
        }
        List<Destination> destinations = new ArrayList<>(destinations());
        destinations.addAll(extraDestinations);
        int seriesNumber = integer(Key.SR_SERIES_NUMBER, 1, 99999);
        return new TriageNode.Config(ae, get(Key.BIND_ADDRESS), integer(Key.PORT, 1, 65535), allowed,
                integer(Key.MAX_ASSOCIATIONS, 1, 1000), syntaxes, (long) integer(Key.MIN_FREE_DISK_MB, 0, 1 << 24) << 20,
                dataDirectory(), duration(Key.QUIET_PERIOD, Duration.ofSeconds(1), Duration.ofHours(1)), destinations,
                integer(Key.MAX_ATTEMPTS, 1, 100), duration(Key.INITIAL_BACKOFF, Duration.ZERO, Duration.ofHours(24)),
                decimal(Key.BACKOFF_MULTIPLIER, 1, 10), duration(Key.MAX_BACKOFF, Duration.ofSeconds(1), Duration.ofHours(24)),
                choice(Key.NON_CT, NonCtPolicy.class), choice(Key.DUPLICATES, DuplicatePolicy.class),
                new SrOptions("ct-triage", get(Key.INSTITUTION), seriesNumber, "0", flag(Key.REJECT_SUPERSEDED)), tls(),
                duration(Key.SPOOL_RETENTION, Duration.ZERO, Duration.ofHours(87600)),
                duration(Key.ARTIM_TIMEOUT, Duration.ofSeconds(1), Duration.ofMinutes(10)),
                integer(Key.MAX_ASSOCIATIONS_PER_HOST, 1, 1000));
    }
}
