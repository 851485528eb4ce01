package org.cttriage.plugin.cli;

import java.util.concurrent.Callable;
import org.cttriage.core.dicom.net.DicomSender;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.error.TriageException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ct-triage echo AET@host:port}: C-ECHO a peer. */
@Command(name = "echo", mixinStandardHelpOptions = true,
        description = "Checks a DICOM peer with C-ECHO. Exit 0 when it answers Success, 1 otherwise (TRIAGE-0613).")
final class EchoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "AET@HOST:PORT", description = "The peer, e.g. PACS@10.0.0.5:104.")
    String peer;

    @Option(names = "--calling-aet", defaultValue = "CTTRIAGE",
            description = "Our AE title in the association (default: ${DEFAULT-VALUE}).")
    String callingAet;

    @Override
    public Integer call() {
        RemoteAe remote;
        try {
            remote = RemoteAe.parse(peer);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        try {
            new DicomSender(callingAet).echo(remote);
            spec.commandLine().getOut().println("C-ECHO " + remote + ": Success");
            return 0;
        } catch (TriageException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return CtTriageCommand.EXIT_TRIAGE_FAILURE;
        }
    }
}
