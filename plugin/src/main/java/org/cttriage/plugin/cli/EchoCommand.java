package org.cttriage.plugin.cli;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.cttriage.core.dicom.net.DicomSender;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.dicom.net.TlsClientOptions;
import org.cttriage.core.error.TriageException;
import org.cttriage.plugin.node.NodeSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ct-triage echo AET@host:port}: C-ECHO a peer, with the node's outbound TLS when configured. */
@Command(name = "echo", mixinStandardHelpOptions = true,
        description = {"Checks a DICOM peer with C-ECHO. Exit 0 when it answers Success, 1 otherwise (TRIAGE-0613,",
            "or TRIAGE-0630..0634 for TLS), 2 for a bad argument or configuration.",
            "With --config, the AE title and the delivery.tls.* settings are the node's: TLS when",
            "delivery.tls.trust-store is set, the pinned certificate when one is configured for the peer's AE title."})
final class EchoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "AET@HOST:PORT", description = "The peer, e.g. PACS@10.0.0.5:104.")
    String peer;

    @Option(names = "--config", paramLabel = "FILE",
            description = "The node's configuration file: use its dicom.ae-title and outbound TLS (delivery.tls.*).")
    Path config;

    @Option(names = "--calling-aet", description = "Our AE title in the association (default: dicom.ae-title, CTTRIAGE).")
    String callingAet;

    @Override
    public Integer call() {
        RemoteAe remote;
        try {
            remote = RemoteAe.parse(peer);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        String calling;
        Optional<TlsClientOptions> tls;
        try {
            NodeSettings settings = NodeSettings.load(config, Path.of(System.getProperty("ct-triage.home", ".")));
            calling = callingAet != null ? callingAet : settings.get(NodeSettings.Key.AE_TITLE);
            tls = settings.outboundTls(remote.aeTitle());
        } catch (TriageException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return 2;
        }
        try {
            new DicomSender(calling, tls).echo(remote);
            spec.commandLine().getOut().println("C-ECHO " + remote + (tls.isPresent() ? " (TLS)" : "") + ": Success");
            return 0;
        } catch (TriageException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return CtTriageCommand.EXIT_TRIAGE_FAILURE;
        }
    }
}
