package org.cttriage.plugin.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.Exporter;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.fhir.delivery.DeadLetter;
import org.cttriage.fhir.delivery.FhirDeadLetterStore;
import org.cttriage.fhir.delivery.FhirDelivery;
import org.cttriage.fhir.delivery.FhirDeliveryOptions;
import java.util.Optional;
import org.cttriage.core.audit.AuditEvents;
import org.cttriage.core.audit.AuditMessage;
import org.cttriage.core.audit.DeliveryAuditor;
import org.cttriage.plugin.node.NodeAudit;
import org.cttriage.plugin.node.NodeDatabaseFiles;
import org.cttriage.plugin.node.NodeSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ct-triage dead-letters list|retry|discard}: every result delivery that gave up, whatever its kind (SR to
 * a PACS, FHIR), from the one delivery ledger. Works while the node runs: a retried delivery is due at once and
 * the running node sends it within its sweep period (a second), a stopped one when it starts.
 *
 * <p>Also lists, resends and discards what the FHIR dead-letter folder of earlier versions
 * ({@code fhir.dead-letter-dir}) still holds, as ids {@code fhir-folder:ID}, so that nothing dead-lettered before
 * the delivery model is lost: a resend is one attempt to the configured FHIR server, and the file is removed once
 * the server has it.
 */
@Command(name = "dead-letters", mixinStandardHelpOptions = true,
        description = {"The result deliveries (SR to a PACS, FHIR) that gave up: `dead-letters list`,",
            "`dead-letters retry ID... | --all` (pending again, sent by the node), `dead-letters discard ID... | --all`",
            "(never sent). IDs fhir-folder:ID are bundles in the FHIR dead-letter folder of earlier versions."})
final class DeadLettersCommand implements Callable<Integer> {
    static final String FOLDER_PREFIX = "fhir-folder:";

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ACTION", description = "list, retry or discard.")
    String action;

    @Parameters(index = "1..*", paramLabel = "ID", description = "Delivery ids (or fhir-folder:ID) to retry or discard.")
    List<String> ids = List.of();

    @Option(names = "--all", description = "Every dead letter.")
    boolean all;

    @Option(names = "--config", paramLabel = "FILE",
            description = "The node's configuration file (node.data-dir, database.*, fhir.*, audit.*).")
    Path config;

    /** The dead letters before the action, by id: what the audit names for each one acted on. */
    private final java.util.Map<Long, DeliveryLedger.Delivery> dead = new java.util.HashMap<>();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!List.of("list", "retry", "discard").contains(action)) {
            throw new ParameterException(spec.commandLine(), "ACTION must be list, retry or discard, was " + action);
        }
        if (!action.equals("list") && ids.isEmpty() && !all) {
            throw new ParameterException(spec.commandLine(), action + " needs delivery ids or --all");
        }
        NodeSettings settings;
        try {
            settings = NodeSettings.load(config, Path.of(System.getProperty("ct-triage.home", ".")));
        } catch (TriageException e) {
            err.println(e.getMessage());
            return 2;
        }
        NodeDatabaseFiles.Opened opened;
        try {
            opened = NodeDatabaseFiles.open(settings);
        } catch (TriageException | RuntimeException e) {
            err.println(e instanceof TriageException ? e.getMessage()
                    : ErrorCode.NODE_DATABASE_FAILED.code() + " cannot open the database: " + e.getMessage());
            return 2;
        }
        NodeAudit audit;
        try {
            audit = NodeAudit.open(settings, "ct-triage dead-letters", Clock.systemUTC());
        } catch (TriageException e) {
            opened.close();
            err.println(e.getMessage());
            return 2;
        }
        FhirDeadLetterStore folder = new FhirDeadLetterStore(folder(settings),
                org.cttriage.fhir.delivery.FhirExporter.context());
        try {
            NodeDatabase database = new NodeDatabase(opened.dataSource());
            database.migrate();
            DeliveryLedger ledger = new DeliveryLedger(database, Clock.systemUTC());
            if (!action.equals("list")) {
                audit.record(audit.events().applicationStarted());
                ledger.inState(DeliveryState.DEAD).forEach(d -> dead.put(d.id(), d));
            }
            int failed = switch (action) {
                case "list" -> list(out, ledger, folder);
                case "retry" -> retry(out, err, ledger, folder, settings, audit);
                default -> discard(out, err, ledger, folder, audit);
            };
            if (!action.equals("list")) {
                audit.record(audit.events().applicationStopped());
            }
            out.flush();
            err.flush();
            return failed == 0 ? 0 : 1;
        } finally {
            // The audit messages are spooled (and sent, unless a running node holds the spool and sends them).
            audit.close();
            opened.close();
        }
    }

    private int list(PrintWriter out, DeliveryLedger ledger, FhirDeadLetterStore folder) throws TriageException {
        List<DeliveryLedger.Delivery> dead = ledger.inState(DeliveryState.DEAD);
        for (DeliveryLedger.Delivery d : dead) {
            out.printf("%d\t%s\tseries %s\t%d attempts\t%s\t%s%n", d.id(), d.destination(), d.series().key(),
                    d.attempts(), d.updated(), d.lastError());
        }
        List<DeadLetter> bundles = folder.list();
        for (DeadLetter b : bundles) {
            out.printf("%s%s\tfhir (folder %s)\t%s\t%d attempts\t%s\t%s%n", FOLDER_PREFIX, b.id(), folder.directory(),
                    b.correlationId(), b.attempts(), b.lastAttempt(), b.lastError());
        }
        out.printf("%d dead letter(s)%s%n", dead.size() + bundles.size(),
                bundles.isEmpty() ? "" : ", " + bundles.size() + " of them in the FHIR dead-letter folder");
        return 0;
    }

    /**
     * Procedure Record (PS3.15 A.5.3.15), update: who retried or discarded which study's delivery. Every
     * dead letter of the ledger names its study and patient (the attributes recorded with the result).
     */
    private void audit(NodeAudit audit, long id, boolean retried) {
        DeliveryLedger.Delivery d = dead.get(id);
        if (d == null) {
            return;
        }
        java.util.Map<String, String> source = DeliveryAuditor.sourceAttributes(d.sourceJson());
        audit.record(audit.events().deadLetterAction(retried, d.series().studyInstanceUid(),
                new AuditEvents.Patient(source.get("PatientID"), source.get("IssuerOfPatientID"), ""),
                AuditMessage.Outcome.SUCCESS, Optional.of(retried ? "dead letter " + id + " to " + d.destination()
                        + " put back to pending" : "dead letter " + id + " to " + d.destination()
                        + " discarded: it will not be sent"), List.of(new AuditMessage.Detail("Delivery", id + " "
                        + d.destination() + " (result " + d.resultId() + ", " + d.attempts() + " attempts: "
                        + d.lastError() + ")"))));
    }

    private int retry(PrintWriter out, PrintWriter err, DeliveryLedger ledger, FhirDeadLetterStore folder,
            NodeSettings settings, NodeAudit audit) throws TriageException {
        int pending = 0;
        int failed = 0;
        List<String> folderIds = new ArrayList<>();
        for (String id : targets(ledger, folder)) {
            if (id.startsWith(FOLDER_PREFIX)) {
                folderIds.add(id.substring(FOLDER_PREFIX.length()));
            } else if (ledger.retry(number(id))) {
                audit(audit, number(id), true);
                pending++;
            } else {
                err.println("delivery " + id + " is not a dead letter");
                failed++;
            }
        }
        out.printf("%d delivery(ies) pending again; a running node sends them within seconds, a stopped one when it"
                + " starts%n", pending);
        if (!folderIds.isEmpty()) {
            if (!settings.fhirConfigured()) {
                err.println(ErrorCode.CONFIGURATION_INVALID.code() + " resending the FHIR folder's bundles needs fhir.url"
                        + " in --config");
                return failed + folderIds.size();
            }
            FhirDeliveryOptions options;
            try {
                options = FhirDeliveryOptions.fromConfig(settings.fhirLookup());
            } catch (IllegalArgumentException e) {
                err.println(ErrorCode.CONFIGURATION_INVALID.code() + " " + e.getMessage());
                return failed + folderIds.size();
            }
            try (FhirDelivery delivery = new FhirDelivery(options, org.cttriage.fhir.delivery.FhirExporter.context(),
                    Clock.systemUTC())) {
                for (String id : folderIds) {
                    DeadLetter letter = folder.read(id).orElse(null);
                    if (letter == null) {
                        err.println(FOLDER_PREFIX + id + " is not in " + folder.directory());
                        failed++;
                        continue;
                    }
                    Exporter.Attempt attempt = delivery.send(folder.bundle(id), letter.correlationId());
                    if (attempt instanceof Exporter.Attempt.Delivered d) {
                        folder.delete(id);
                        out.printf("%s%s delivered (%s) and removed from the folder%n", FOLDER_PREFIX, id, d.detail());
                    } else {
                        failed++;
                        err.printf("%s%s not delivered, kept: %s%n", FOLDER_PREFIX, id,
                                attempt instanceof Exporter.Attempt.Retry r ? r.error()
                                        : ((Exporter.Attempt.Rejected) attempt).error());
                    }
                }
            }
        }
        return failed;
    }

    private int discard(PrintWriter out, PrintWriter err, DeliveryLedger ledger, FhirDeadLetterStore folder,
            NodeAudit audit) throws TriageException {
        int discarded = 0;
        int failed = 0;
        for (String id : targets(ledger, folder)) {
            boolean done = id.startsWith(FOLDER_PREFIX) ? folder.delete(id.substring(FOLDER_PREFIX.length()))
                    : ledger.discard(number(id));
            if (done) {
                if (!id.startsWith(FOLDER_PREFIX)) {
                    audit(audit, number(id), false);
                }
                discarded++;
            } else {
                err.println(id + " is not a dead letter");
                failed++;
            }
        }
        out.printf("%d dead letter(s) discarded: they will not be sent%n", discarded);
        return failed;
    }

    private List<String> targets(DeliveryLedger ledger, FhirDeadLetterStore folder) throws TriageException {
        if (!all) {
            return ids;
        }
        List<String> every = new ArrayList<>();
        ledger.inState(DeliveryState.DEAD).forEach(d -> every.add(String.valueOf(d.id())));
        folder.list().forEach(b -> every.add(FOLDER_PREFIX + b.id()));
        return every;
    }

    private long number(String id) {
        try {
            return Long.parseLong(id);
        } catch (NumberFormatException e) {
            throw new ParameterException(spec.commandLine(), "'" + id + "' is not a delivery id (a number, or "
                    + FOLDER_PREFIX + "ID)");
        }
    }

    /** The FHIR dead-letter folder of earlier versions: fhir.dead-letter-dir, else its old default. */
    private static Path folder(NodeSettings settings) {
        String configured = settings.fhirLookup().apply("fhir.dead-letter-dir");
        return configured == null || configured.isBlank() ? FhirDeliveryOptions.DEFAULT_DEAD_LETTER_DIR
                : Path.of(configured);
    }
}
