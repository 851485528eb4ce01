package org.cttriage.plugin.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.core.volume.StudyVolumeBuilder;
import org.cttriage.core.volume.Volume;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ct-triage bench-model}: model load time and per-volume inference latency. */
@Command(name = "bench-model", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Measures model package load time (verify + open sessions + embed prompts) and the latency of",
            "preprocess + image encoder + scoring on one volume (a generated 512x512x300 phantom, or the series",
            "in FOLDER), printing the median of the runs, the device and the ONNX Runtime thread setting."})
final class BenchModelCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "FOLDER", description = "Folder with a CT series (default: a generated phantom).")
    Path folder;

    @Option(names = "--runs", defaultValue = "10", description = "Measured runs (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--warmup", defaultValue = "2", description = "Unmeasured warm-up runs (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--loads", defaultValue = "3", description = "Model loads to time (default: ${DEFAULT-VALUE}).")
    int loads;

    @Mixin
    ModelOptions model;

    @Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ExecutorService pool = threads.newPool();
        try {
            Volume volume;
            if (folder != null) {
                StudyVolumeBuilder.Outcome o = new StudyVolumeBuilder(SelectionPolicy.defaults(), AssemblyPolicy.defaults(),
                        pool).build(folder);
                if (!(o instanceof StudyVolumeBuilder.Built b)) {
                    out.println("no volume: " + ((StudyVolumeBuilder.NotBuilt) o).reason().getMessage());
                    return CtTriageCommand.EXIT_TRIAGE_FAILURE;
                }
                volume = b.volume();
            } else {
                volume = PhantomVolumes.toVolume(new PhantomGenerator().generate(new PhantomSpec(4242, 512, 512, 300,
                        400.0 / 512, 1.25, 1.25, ContrastPhase.NONE, Set.of(), true), pool));
            }
            int[] s = volume.geometry().size();
            double[] loadMs = new double[loads];
            for (int i = 0; i < loads; i++) {
                long t0 = System.nanoTime();
                try (InferenceEngine e = model.open()) {
                    loadMs[i] = (System.nanoTime() - t0) / 1e6;
                }
            }
            try (InferenceEngine engine = model.open()) {
                out.printf(Locale.ROOT, "model %s %s, device %s, ONNX Runtime intra-op threads %s, %d CPUs%n",
                        engine.modelPackage().identity().name(), engine.modelPackage().identity().version(), engine.device(),
                        model.intraOpThreads == 0 ? "default (ONNX Runtime chooses)" : model.intraOpThreads,
                        Runtime.getRuntime().availableProcessors());
                out.printf(Locale.ROOT, "volume %d x %d x %d%n", s[0], s[1], s[2]);
                out.printf(Locale.ROOT, "model load: median %.0f ms over %d loads (%s)%n", median(loadMs), loads,
                        Arrays.toString(Arrays.stream(loadMs).mapToLong(Math::round).toArray()));
                double[] total = new double[runs];
                double[] pre = new double[runs];
                double[] enc = new double[runs];
                double[] score = new double[runs];
                double[] crops = new double[runs];
                double[] detectors = new double[runs];
                for (int r = -warmup; r < runs; r++) {
                    long t0 = System.nanoTime();
                    TriageResult result = engine.analyze(volume);
                    double ms = (System.nanoTime() - t0) / 1e6;
                    if (r >= 0) {
                        total[r] = ms;
                        pre[r] = result.timingsMillis().get("preprocess");
                        enc[r] = result.timingsMillis().get("imageEncoder");
                        score[r] = result.timingsMillis().get("scoring");
                        crops[r] = result.timingsMillis().getOrDefault("organCrops", 0L);
                        detectors[r] = result.timingsMillis().getOrDefault("lesionDetectors", 0L);
                    }
                }
                out.printf(Locale.ROOT, "preprocess + inference + scoring: median %.0f ms over %d runs"
                                + " (preprocess %.0f, image encoder %.0f, organ crops %.0f of which lesion detectors %.0f,"
                                + " scoring %.0f)%n",
                        median(total), runs, median(pre), median(enc), median(crops), median(detectors), median(score));
                out.printf(Locale.ROOT, "RESULT device=%s load_ms=%.0f latency_ms=%.0f%n", engine.device(), median(loadMs),
                        median(total));
            }
            out.flush();
            return 0;
        } finally {
            pool.shutdownNow();
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length == 0 ? Double.NaN : s[s.length / 2];
    }
}
