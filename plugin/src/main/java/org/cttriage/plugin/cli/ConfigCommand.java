package org.cttriage.plugin.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import org.cttriage.core.audit.AuditOptions;
import org.cttriage.core.dicom.net.TlsClientOptions;
import org.cttriage.core.dicom.net.TlsOptions;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.inference.ModelPackage;
import org.cttriage.fhir.delivery.FhirDeliveryOptions;
import org.cttriage.plugin.node.Destination;
import org.cttriage.plugin.node.NodeSettings;
import org.cttriage.plugin.node.TriageNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ct-triage config check FILE}: the node's configuration validated without starting the node. */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = "The node's configuration file.",
        subcommands = {ConfigCommand.Check.class})
final class ConfigCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * Every check {@code serve} makes before it binds a port or opens the database, and a few it only meets later
     * (key store passwords, the model package's checksums): one line per check, every failure listed, not only the
     * first. Binds nothing, connects to nothing, creates nothing.
     */
    @Command(name = "check", mixinStandardHelpOptions = true,
            description = {"Validates a node configuration without starting the node: keys and values, TLS key and trust",
                "stores (opened with their passwords), the FHIR settings, the database settings, the model package",
                "(manifest and checksums) and the data folder. Exit 0 when all pass, 2 when any fails."})
    static final class Check implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "FILE", description = "The configuration file (node.properties).")
        Path file;

        private final List<String> failures = new ArrayList<>();

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            if (!Files.isRegularFile(file)) {
                out.printf("FAIL  file: %s %s is not a readable file%n", ErrorCode.NO_SUCH_INPUT.code(), file);
                out.flush();
                return 2;
            }
            NodeSettings settings;
            try {
                settings = NodeSettings.load(file, Path.of(System.getProperty("ct-triage.home", ".")));
            } catch (TriageException e) {
                out.printf("FAIL  keys: %s%n", e.getMessage());
                out.printf("%s: not valid (the other checks need readable keys)%n", file);
                out.flush();
                return 2;
            }
            out.printf("ok    keys: every key known%n");
            settings.notes().forEach(n -> out.printf("note  %s%n", n));

            TriageNode.Config node = check(out, "node", () -> settings.nodeConfig(settings.otherDestinations()), c -> "AE " + c.aeTitle() + " on " + c.bindAddress() + ":" + c.port() + ", quiet period "
                    + c.quietPeriod().toSeconds() + " s");
            if (node != null) {
                checkTls(out, node);
                for (Destination d : node.destinations()) {
                    if (d.isDicom()) {
                        check(out, "destination " + d.name(), () -> d, x -> x.dicom().toString()
                                + (x.tls().isPresent() ? " over TLS" : ""));
                        if (d.tls().isPresent()) {
                            checkClientTls(out, d.name(), d.tls().get());
                        }
                    }
                }
                checkDataFolder(out, node);
            }
            if (settings.fhirConfigured()) {
                check(out, "fhir", () -> {
                    try {
                        FhirDeliveryOptions.fromConfig(settings.fhirLookup());
                    } catch (IllegalArgumentException e) {
                        throw new TriageException(ErrorCode.CONFIGURATION_INVALID, e.getMessage(), e);
                    }
                    settings.fhirAccessionSystem();
                    return settings.fhirPriorityTarget();
                }, t -> "server " + settings.get("fhir.url") + ", priority to " + t.value());
            } else {
                out.printf("ok    fhir: none configured%n");
            }
            if (settings.hl7Configured()) {
                check(out, "hl7", () -> Hl7Wiring.options(settings), o -> o.describe() + ", priorities "
                        + o.message().priorityCodes().entrySet().stream().map(e -> e.getKey().fhirCode() + "="
                                + e.getValue()).collect(java.util.stream.Collectors.joining(",")) + ", at least "
                        + o.minPriority().fhirCode() + " (not connected to)");
            } else {
                out.printf("ok    hl7: none configured%n");
                if (org.cttriage.hl7.delivery.Hl7Options.CONFIG_KEYS.stream()
                        .anyMatch(k -> settings.hl7Lookup().apply(k.key()) != null)) {
                    out.printf("note  hl7.* keys are set but hl7.host is not: nothing is sent to the RIS%n");
                }
            }
            if (settings.upsConfigured()) {
                check(out, "ups", () -> UpsWiring.options(settings), o -> o.describe() + ", priorities "
                        + o.priorities().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
                                .map(e -> e.getKey().fhirCode() + "=" + e.getValue())
                                .collect(java.util.stream.Collectors.joining(",")) + ", SR retrieved from "
                        + o.retrieveAeTitle() + " (not connected to)");
            } else {
                out.printf("ok    ups: none configured%n");
            }
            check(out, "http", () -> {
                settings.stuckDelivery();
                return settings.httpAddress();
            }, a -> "health, metrics and status on " + a.getHostString() + ":" + a.getPort());
            check(out, "log", settings::logPatientData, on -> on
                    ? "log.patient-data is on: the operational log will name patients (a security event at start)"
                    : "no patient data in the operational log");
            check(out, "database", settings::database, db -> db.url().isEmpty()
                    ? "embedded H2 in " + settings.dataDirectory().toAbsolutePath().resolve("db")
                    : "PostgreSQL " + db.url().replaceAll("(?i)(password=)[^&;]*", "$1***") + " as " + (db.user().isEmpty() ? "(no user)" : db.user())
                            + ", pool " + db.poolSize() + " (not connected to: config check connects to nothing)");
            NodeSettings.Audit audit = check(out, "audit", settings::audit, a -> !a.options().enabled()
                    ? "off (neither audit.syslog.host nor audit.file is set)"
                    : a.options().syslog().map(x -> "syslog " + x + ", spool " + a.options().spoolDirectory().toAbsolutePath()
                            + " up to " + (a.options().spoolMaxBytes() >> 20) + " MiB").orElse("no syslog collector")
                            + a.options().file().map(f -> "; file " + f.toAbsolutePath()).orElse("")
                            + "; AuditSourceID " + a.sourceId());
            if (audit != null && audit.options().syslog().flatMap(AuditOptions.Syslog::tls).isPresent()) {
                AuditOptions.Tls t = audit.options().syslog().get().tls().get();
                check(out, "audit tls", () -> {
                    String trust = keyStore("audit.syslog.tls.trust-store", t.trustStore(), t.trustStorePassword(), false);
                    return trust + "; " + (t.keyStore().isEmpty() ? "no client certificate"
                            : keyStore("audit.syslog.tls.key-store", t.keyStore().get(), t.keyStorePassword(), true));
                }, d -> d);
            }
            check(out, "model", () -> {
                settings.device();
                return ModelPackage.load(settings.modelPath());
            }, m -> m.identity().name() + " " + m.identity().version() + " in " + settings.modelPath()
                    + ", device " + settings.get(NodeSettings.Key.DEVICE));

            if (failures.isEmpty()) {
                out.printf("%s: valid%n", file);
                out.flush();
                return 0;
            }
            out.printf("%s: %d check(s) failed%n", file, failures.size());
            out.flush();
            return 2;
        }

        /** A check that yields a value; its failure is recorded and printed, and null returned. */
        private <T> T check(PrintWriter out, String name, Step<T> step, java.util.function.Function<T, String> detail) {
            try {
                T value = step.run();
                out.printf("ok    %s: %s%n", name, detail.apply(value));
                return value;
            } catch (TriageException | RuntimeException e) {
                fail(out, name, e instanceof TriageException ? e.getMessage()
                        : ErrorCode.CONFIGURATION_INVALID.code() + " " + e.getMessage());
                return null;
            }
        }

        private void fail(PrintWriter out, String name, String message) {
            failures.add(name);
            out.printf("FAIL  %s: %s%n", name, message);
        }

        /** The listener's key store opened with its password and holding a key; its trust store likewise. */
        private void checkTls(PrintWriter out, TriageNode.Config node) {
            if (node.tls().isEmpty()) {
                out.printf("ok    dicom tls: off (plain DICOM)%n");
                return;
            }
            TlsOptions t = node.tls().get();
            check(out, "dicom tls", () -> {
                String keys = keyStore("dicom.tls.key-store", t.keyStore(), t.keyStorePassword(), true);
                return t.trustStore().isEmpty() ? keys
                        : keys + "; " + keyStore("dicom.tls.trust-store", t.trustStore().get(), t.trustStorePassword(), false);
            }, d -> d + ", client certificates " + t.clientAuth().name().toLowerCase(java.util.Locale.ROOT));
        }

        /** An outbound destination's trust store (and client key store, when given) opened with their passwords. */
        private void checkClientTls(PrintWriter out, String name, TlsClientOptions t) {
            check(out, "destination " + name + " tls", () -> {
                String trust = keyStore("delivery.tls.trust-store", t.trustStore(), t.trustStorePassword(), false);
                return trust + "; " + (t.keyStore().isEmpty() ? "no client certificate"
                        : keyStore("delivery.tls.key-store", t.keyStore().get(), t.keyStorePassword(), true));
            }, d -> d);
        }

        /** "KEY FILE (N entries)" when the PKCS#12 file opens with the password (and holds a private key if asked). */
        private static String keyStore(String key, Path path, char[] password, boolean needsPrivateKey)
                throws TriageException {
            try (InputStream in = Files.newInputStream(path)) {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(in, password);
                boolean hasKey = false;
                for (String alias : Collections.list(store.aliases())) {
                    hasKey |= store.isKeyEntry(alias);
                }
                if (needsPrivateKey && !hasKey) {
                    throw new TriageException(ErrorCode.CONFIGURATION_INVALID, key + " " + path + " holds no private key");
                }
                return key + " " + path.getFileName() + " (" + store.size() + (store.size() == 1 ? " entry)" : " entries)");
            } catch (IOException | GeneralSecurityException e) {
                throw new TriageException(ErrorCode.CONFIGURATION_INVALID, key + " " + path
                        + " cannot be opened with its password as PKCS#12: " + e.getMessage(), e);
            }
        }

        /** The data folder exists and is writable, or can be created; free space against the watermark. */
        private void checkDataFolder(PrintWriter out, TriageNode.Config node) {
            Path data = node.dataDirectory().toAbsolutePath();
            Path existing = data;
            while (existing != null && !Files.exists(existing)) {
                existing = existing.getParent();
            }
            if (existing == null || !Files.isDirectory(existing) || !Files.isWritable(existing)) {
                fail(out, "data folder", ErrorCode.CONFIGURATION_INVALID.code() + " " + data
                        + (existing == null ? " has no existing parent" : " cannot be created or written: "
                        + existing + " is not a writable folder"));
                return;
            }
            long free;
            try {
                free = Files.getFileStore(existing).getUsableSpace();
            } catch (IOException e) {
                fail(out, "data folder", ErrorCode.CONFIGURATION_INVALID.code() + " free space of " + existing
                        + " unknown: " + e.getMessage());
                return;
            }
            String state = existing.equals(data) ? "exists" : "will be created";
            if (free < node.minFreeDiskBytes()) {
                fail(out, "data folder", ErrorCode.CONFIGURATION_INVALID.code() + " " + data + " has " + (free >> 20)
                        + " MB free, below dicom.min-free-disk-mb " + (node.minFreeDiskBytes() >> 20)
                        + ": every association would be refused");
                return;
            }
            out.printf("ok    data folder: %s (%s), %d MB free%n", data, state, free >> 20);
        }

        @FunctionalInterface
        private interface Step<T> {
            T run() throws TriageException;
        }
    }
}
