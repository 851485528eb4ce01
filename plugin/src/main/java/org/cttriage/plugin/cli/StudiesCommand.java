package org.cttriage.plugin.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.core.node.StudyOverview;
import org.cttriage.plugin.node.NodeDatabaseFiles;
import org.cttriage.plugin.node.NodeSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ct-triage studies list|show UID}: every study the node has seen, and for one study each
 * series with its verdict and reason, its results and each delivery with its state. Reads the
 * database, so it works beside a running node.
 */
@Command(name = "studies", mixinStandardHelpOptions = true,
        description = {"Lists the studies the node has seen (`studies list`), or shows one (`studies show UID`):",
            "each series with its state and the reason (the series selection's verdict), the study's results",
            "(the current one and those it superseded) and each delivery with its state."})
final class StudiesCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ACTION", description = "list or show.")
    String action;

    @Parameters(index = "1", arity = "0..1", paramLabel = "STUDY_UID", description = "The study to show.")
    String study;

    @Option(names = "--config", paramLabel = "FILE", description = "The node's configuration file (node.data-dir, database.*).")
    Path config;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Optional<NodeDatabaseFiles.Opened> openedOrNot = CliDatabase.open(config, spec.commandLine().getErr());
        if (openedOrNot.isEmpty()) {
            return 2;
        }
        NodeDatabaseFiles.Opened opened = openedOrNot.get();
        try {
            NodeDatabase database = new NodeDatabase(opened.dataSource());
            database.migrate();
            StudyOverview overview = new StudyOverview(database);
            switch (action) {
                case "list" -> {
                    List<StudyOverview.StudyLine> studies = overview.list();
                    for (StudyOverview.StudyLine s : studies) {
                        out.printf("%s\t%d series (%d triaged, %d not triaged, %d receiving)\tpriority %s\tlast"
                                + " instance %s%n", s.studyInstanceUid(), s.series(), s.triaged(), s.notTriaged(),
                                s.receiving(), s.priority() == null ? "-" : s.priority(), s.lastReceived());
                    }
                    out.printf("%d study(ies)%n", studies.size());
                }
                case "show" -> {
                    if (study == null) {
                        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "show needs a STUDY_UID");
                    }
                    Optional<StudyOverview.Study> found = overview.show(study);
                    if (found.isEmpty()) {
                        spec.commandLine().getErr().println(ErrorCode.NO_SUCH_INPUT.code() + " no study " + study
                                + " in the node's database");
                        return 1;
                    }
                    print(out, found.get());
                }
                default -> throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "ACTION must be list or show, was " + action);
            }
            out.flush();
            return 0;
        } finally {
            opened.close();
        }
    }

    private static void print(PrintWriter out, StudyOverview.Study s) {
        out.printf("study %s%n", s.studyInstanceUid());
        out.printf("series:%n");
        for (StudyOverview.SeriesLine l : s.series()) {
            out.printf("  %s\t%d instances\t%s\t%s%n", l.seriesInstanceUid(), l.instances(), l.state(),
                    l.reason() == null ? "" : l.reason());
        }
        out.printf("results:%n");
        if (s.results().isEmpty()) {
            out.printf("  none%n");
        }
        for (StudyOverview.ResultLine r : s.results()) {
            out.printf("  result %d\t%s\tseries %s\tpriority %s\tSR %s\t%s%n", r.id(),
                    r.supersededBy() == null ? "current" : "superseded by " + r.supersededBy(), r.seriesInstanceUid(),
                    r.priority(), r.srSopInstanceUid(), r.created());
            for (StudyOverview.DeliveryLine d : r.deliveries()) {
                out.printf("    delivery %d\t%s\t%s\t%d attempt(s)%s%n", d.id(), d.destination(), d.state(),
                        d.attempts(), d.lastError() == null ? "" : "\t" + d.lastError());
            }
        }
    }
}
