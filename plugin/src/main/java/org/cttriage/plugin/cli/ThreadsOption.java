package org.cttriage.plugin.cli;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine.Option;

/** The worker-thread option shared by the commands that read or write many files. */
final class ThreadsOption {
    @Option(names = "--threads", defaultValue = "0", description = "Worker threads (0 = number of CPUs) (default: ${DEFAULT-VALUE}).")
    int threads;

    /** Threads to use: the option, or the number of CPUs when 0. */
    int count() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    /** A pool of {@link #count()} threads; the caller shuts it down. */
    ExecutorService newPool() {
        return Executors.newFixedThreadPool(count());
    }
}
