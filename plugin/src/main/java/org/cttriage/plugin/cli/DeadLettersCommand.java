package org.cttriage.plugin.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.plugin.node.NodeDatabaseFiles;
import org.cttriage.plugin.node.NodeSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ct-triage dead-letters list|retry}: the node's result deliveries that gave up. Works
 * while the node runs (the running node picks retried deliveries up within its sweep period).
 */
@Command(name = "dead-letters", mixinStandardHelpOptions = true,
        description = {"Lists the result deliveries (SR to a PACS, FHIR) that gave up after their maximum attempts,",
            "or makes them pending again: `dead-letters list`, `dead-letters retry ID...` or `dead-letters retry --all`."})
final class DeadLettersCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ACTION", description = "list or retry.")
    String action;

    @Parameters(index = "1..*", paramLabel = "ID", description = "Delivery ids to retry.")
    List<Long> ids = List.of();

    @Option(names = "--all", description = "Retry every dead letter.")
    boolean all;

    @Option(names = "--config", paramLabel = "FILE", description = "The node's configuration file (node.data-dir, database.*).")
    Path config;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        NodeSettings settings;
        try {
            settings = NodeSettings.load(config, Path.of(System.getProperty("ct-triage.home", ".")));
        } catch (TriageException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return 2;
        }
        NodeDatabaseFiles.Opened opened;
        try {
            opened = NodeDatabaseFiles.open(settings);
        } catch (TriageException | RuntimeException e) {
            spec.commandLine().getErr().println(e instanceof TriageException ? e.getMessage()
                    : ErrorCode.NODE_DATABASE_FAILED.code() + " cannot open the database: " + e.getMessage());
            return 2;
        }
        try {
            NodeDatabase database = new NodeDatabase(opened.dataSource());
            database.migrate();
            DeliveryLedger ledger = new DeliveryLedger(database, java.time.Clock.systemUTC());
            switch (action) {
                case "list" -> {
                    List<DeliveryLedger.Delivery> dead = ledger.inState(DeliveryState.DEAD);
                    for (DeliveryLedger.Delivery d : dead) {
                        out.printf("%d\t%s\tseries %s\t%d attempts\t%s\t%s%n", d.id(), d.destination(), d.series().key(),
                                d.attempts(), d.updated(), d.lastError());
                    }
                    out.printf("%d dead letter(s)%n", dead.size());
                }
                case "retry" -> {
                    List<Long> targets = all ? ledger.inState(DeliveryState.DEAD).stream()
                            .map(DeliveryLedger.Delivery::id).toList() : ids;
                    if (targets.isEmpty()) {
                        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                                "retry needs delivery ids or --all");
                    }
                    int n = 0;
                    for (long id : targets) {
                        if (ledger.retry(id)) {
                            n++;
                        } else {
                            spec.commandLine().getErr().println("delivery " + id + " is not a dead letter");
                        }
                    }
                    out.printf("%d delivery(ies) pending again; a running node sends them within a minute, a stopped"
                            + " one when it starts%n", n);
                }
                default -> throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "ACTION must be list or retry, was " + action);
            }
            out.flush();
            return 0;
        } finally {
            opened.close();
        }
    }
}
