package org.cttriage.plugin.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code ct-triage demo}: what the product does so far, on bundled synthetic data —
 * generate a phantom study with findings, inspect it as the node would, triage it.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {
            "Generates a synthetic CT study (with a few findings), inspects it (series selection with reasons,",
            "the assembled volume's geometry) and triages it with the reference model, writing the DICOM SR and",
            "result.json under OUT/result. Runs with no network and no PACS."})
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", defaultValue = "demo-output", description = "Folder for the generated study (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() {
        var cli = spec.commandLine().getParent();
        int rc = cli.execute("generate", "--out", out.toString(), "--seed", "7", "--matrix", "256", "--slices", "120",
                "--findings", "pleural_effusion,splenomegaly,liver_cyst");
        if (rc != 0) {
            return rc;
        }
        spec.commandLine().getOut().println();
        rc = cli.execute("inspect", out.resolve("dicom").toString());
        if (rc != 0) {
            return rc;
        }
        spec.commandLine().getOut().println();
        return cli.execute("analyze", out.resolve("dicom").toString(), "--out", out.resolve("result").toString());
    }
}
