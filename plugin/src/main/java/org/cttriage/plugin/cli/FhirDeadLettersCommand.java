package org.cttriage.plugin.cli;

import ca.uhn.fhir.context.FhirContext;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.cttriage.core.error.TriageException;
import org.cttriage.fhir.delivery.DeadLetter;
import org.cttriage.fhir.delivery.DeliveryResult;
import org.cttriage.fhir.delivery.FhirDeadLetterStore;
import org.cttriage.fhir.delivery.FhirDelivery;
import org.cttriage.fhir.delivery.FhirDeliveryOptions;
import org.cttriage.fhir.delivery.Sleeper;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ct-triage fhir-dead-letters}: the FHIR bundles that could not be delivered: list, retry, delete. */
@Command(name = "fhir-dead-letters", mixinStandardHelpOptions = true,
        description = {
            "FHIR bundles that could not be delivered (attempts exhausted, or refused by the server) wait in the",
            "dead-letter directory. List them, send them again once the cause is fixed (a re-send never creates a",
            "second report: every entry is a conditional create), or delete them."},
        subcommands = {
            FhirDeadLettersCommand.ListCommand.class,
            FhirDeadLettersCommand.RetryCommand.class,
            FhirDeadLettersCommand.DeleteCommand.class,
            CommandLine.HelpCommand.class
        })
final class FhirDeadLettersCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: list, retry or delete");
    }

    /** The dead-letter directory option of every subcommand. */
    static final class Dir {
        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "var/fhir-dead-letters",
                description = "Dead-letter directory: the node's fhir.dead-letter-dir (default: ${DEFAULT-VALUE}).")
        Path dir;

        FhirDeadLetterStore store() {
            return new FhirDeadLetterStore(dir, FhirContext.forR4Cached());
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists the dead letters, oldest first: id, attempts, last HTTP status, last attempt,"
                    + " correlation (study/series) and the last error.")
    static final class ListCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        Dir dir;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try {
                List<DeadLetter> letters = dir.store().list();
                out.printf("%d dead letter(s) in %s%n", letters.size(), dir.dir);
                for (DeadLetter d : letters) {
                    out.printf("%s  attempts=%d  status=%s  last=%s  %s%n    %s%n", d.id(), d.attempts(),
                            d.lastStatus() == 0 ? "-" : String.valueOf(d.lastStatus()), d.lastAttempt(), d.correlationId(),
                            d.lastError());
                }
                out.flush();
                return 0;
            } catch (TriageException e) {
                spec.commandLine().getErr().println(e.getMessage());
                return CtTriageCommand.EXIT_TRIAGE_FAILURE;
            }
        }
    }

    @Command(name = "retry", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Sends dead letters to the FHIR server again; each one delivered is deleted, each one that"
                    + " fails again stays, its attempts and last error updated. Exit 0 when all were delivered, 1"
                    + " otherwise.")
    static final class RetryCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Target target;

        static final class Target {
            @Parameters(paramLabel = "ID", description = "The dead letter to retry (an id from list).")
            String id;

            @Option(names = "--all", required = true, description = "Retry every dead letter, oldest first.")
            boolean all;
        }

        @Mixin
        Dir dir;

        @Mixin
        FhirDeadLettersOptions fhir;

        @Override
        public Integer call() {
            FhirDeliveryOptions options = fhir.toOptions(dir.dir, spec);
            PrintWriter out = spec.commandLine().getOut();
            try (FhirDelivery delivery = new FhirDelivery(options, FhirContext.forR4Cached(), Clock.systemUTC(),
                    Sleeper.system())) {
                FhirDeadLetterStore store = delivery.deadLetters();
                Map<String, DeliveryResult> results = new LinkedHashMap<>();
                if (target.all) {
                    results.putAll(store.retryAll(delivery));
                } else {
                    results.put(target.id, store.retry(target.id, delivery));
                }
                int failed = 0;
                for (Map.Entry<String, DeliveryResult> e : results.entrySet()) {
                    DeliveryResult r = e.getValue();
                    if (r instanceof DeliveryResult.Delivered) {
                        out.printf("%s  delivered, deleted%n", e.getKey());
                    } else if (r instanceof DeliveryResult.Rejected rej) {
                        failed++;
                        out.printf("%s  refused by the server: HTTP %d: %s%n", e.getKey(), rej.status(), rej.outcome());
                    } else if (r instanceof DeliveryResult.DeadLettered dl) {
                        failed++;
                        out.printf("%s  not delivered: %s%n", e.getKey(), dl.reason());
                    }
                }
                out.printf("%d delivered, %d still in %s%n", results.size() - failed, failed, dir.dir);
                out.flush();
                return failed == 0 ? 0 : CtTriageCommand.EXIT_TRIAGE_FAILURE;
            } catch (TriageException e) {
                spec.commandLine().getErr().println(e.getMessage());
                return CtTriageCommand.EXIT_TRIAGE_FAILURE;
            }
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Deletes one dead letter: its result is then not delivered by ct-triage. Exit 1 when there"
                    + " is no such dead letter.")
    static final class DeleteCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID", description = "The dead letter to delete (an id from list).")
        String id;

        @Mixin
        Dir dir;

        @Override
        public Integer call() {
            try {
                if (dir.store().delete(id)) {
                    spec.commandLine().getOut().printf("%s deleted%n", id);
                    spec.commandLine().getOut().flush();
                    return 0;
                }
                spec.commandLine().getErr().printf("no dead letter %s in %s%n", id, dir.dir);
                return CtTriageCommand.EXIT_TRIAGE_FAILURE;
            } catch (TriageException e) {
                spec.commandLine().getErr().println(e.getMessage());
                return CtTriageCommand.EXIT_TRIAGE_FAILURE;
            }
        }
    }
}
