package org.cttriage.plugin.cli;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.core.volume.StudyVolumeBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code ct-triage bench-volume}: the volume-assembly benchmark (scan, select, read, sort,
 * rescale) on a folder; prints throughput and peak heap. bin/benchmark-volume runs it beside
 * the pydicom+numpy baseline.
 */
@Command(name = "bench-volume", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Builds the volume of a folder's series repeatedly and prints MB/s of pixel data (median of the",
            "measured runs) and the peak heap (sum of the heap pools' peaks, reset after a GC before each run).",
            "Used by bin/benchmark-volume; prints a final RESULT line for scripts."})
final class BenchVolumeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FOLDER", description = "Folder with one CT series.")
    Path folder;

    @Option(names = "--runs", defaultValue = "5", description = "Measured runs (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--warmup", defaultValue = "2", description = "Unmeasured warm-up runs (default: ${DEFAULT-VALUE}).")
    int warmup;

    @picocli.CommandLine.Mixin
    ThreadsOption threads;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        int n = threads.count();
        ExecutorService pool = threads.newPool();
        try {
            StudyVolumeBuilder builder = new StudyVolumeBuilder(SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool);
            double[] mbPerSecond = new double[runs];
            long rawBytes = 0;
            long peak = 0;
            for (int r = -warmup; r < runs; r++) {
                System.gc();
                resetPeaks();
                long t0 = System.nanoTime();
                StudyVolumeBuilder.Outcome outcome = builder.build(folder);
                long t1 = System.nanoTime();
                if (!(outcome instanceof StudyVolumeBuilder.Built built)) {
                    out.println("no volume: " + ((StudyVolumeBuilder.NotBuilt) outcome).reason().getMessage());
                    return CtTriageCommand.EXIT_TRIAGE_FAILURE;
                }
                rawBytes = built.volume().pixelBytes();
                long runPeak = heapPeak();
                if (r >= 0) {
                    mbPerSecond[r] = rawBytes / 1e6 / ((t1 - t0) / 1e9);
                    peak = Math.max(peak, runPeak);
                    out.printf(Locale.ROOT, "run %d: %.1f ms, %.0f MB/s, peak heap %.0f MB%n", r + 1, (t1 - t0) / 1e6,
                            mbPerSecond[r], runPeak / 1e6);
                }
            }
            double[] sorted = mbPerSecond.clone();
            Arrays.sort(sorted);
            double median = sorted[sorted.length / 2];
            out.printf(Locale.ROOT, "threads %d, raw pixel data %.1f MB, median %.0f MB/s, peak heap %.0f MB (%.2f x raw)%n",
                    n, rawBytes / 1e6, median, peak / 1e6, (double) peak / rawBytes);
            out.printf(Locale.ROOT, "RESULT mb_per_s=%.1f peak_heap_mb=%.1f raw_mb=%.1f%n", median, peak / 1e6, rawBytes / 1e6);
            out.flush();
            return 0;
        } finally {
            pool.shutdownNow();
        }
    }

    private static void resetPeaks() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                p.resetPeakUsage();
            }
        }
    }

    private static long heapPeak() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }
}
