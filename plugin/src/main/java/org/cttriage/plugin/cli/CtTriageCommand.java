package org.cttriage.plugin.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ct-triage} command line: one subcommand per job. */
@Command(name = "ct-triage", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "CT triage node: builds CT volumes, scores abnormalities, returns DICOM SR and FHIR.",
        subcommands = {
            DemoCommand.class,
            GenerateCommand.class,
            InspectCommand.class,
            BenchVolumeCommand.class,
            EvaluateCommand.class,
            AnalyzeCommand.class,
            BenchModelCommand.class,
            ServeCommand.class,
            EchoCommand.class,
            DeadLettersCommand.class,
            StudiesCommand.class,
            ConfigCommand.class,
            StatusCommand.class,
            UsersCommand.class,
            CommandLine.HelpCommand.class
        })
public final class CtTriageCommand implements Runnable {
    /** Exit status when the input could not be triaged (the message carries the TRIAGE code). */
    public static final int EXIT_TRIAGE_FAILURE = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    /** Entry point used by bin/ct-triage. */
    public static void main(String[] args) {
        System.exit(newCommandLine().execute(args));
    }

    /** The configured command line (also used by tests). */
    public static CommandLine newCommandLine() {
        return new CommandLine(new CtTriageCommand()).setCaseInsensitiveEnumValuesAllowed(true);
    }
}
