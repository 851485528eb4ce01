package org.cttriage.plugin.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.plugin.node.NodeDatabaseFiles;
import org.cttriage.plugin.node.NodeSettings;

/** The node's database for a command that reads or changes it beside a running node ({@code studies}, {@code users}). */
final class CliDatabase {
    private CliDatabase() {
    }

    /**
     * Opens the database {@code config} names (its defaults when null); empty, with the reason printed on {@code err},
     * when the configuration or the database cannot be opened.
     */
    static Optional<NodeDatabaseFiles.Opened> open(Path config, PrintWriter err) {
        try {
            return Optional.of(NodeDatabaseFiles.open(NodeSettings.load(config,
                    Path.of(System.getProperty("ct-triage.home", ".")))));
        } catch (TriageException | RuntimeException e) {
            err.println(e instanceof TriageException ? e.getMessage()
                    : ErrorCode.NODE_DATABASE_FAILED.code() + " cannot open the database: " + e.getMessage());
            return Optional.empty();
        }
    }
}
