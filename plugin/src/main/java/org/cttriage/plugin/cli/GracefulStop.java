package org.cttriage.plugin.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops the node in order on SIGTERM and SIGINT before the JVM begins its shutdown, and on any other exit from its
 * shutdown hook.
 *
 * <p>Why not a shutdown hook alone: the JVM runs all hooks at once, and the embedded H2 database (opened with
 * {@code AUTO_SERVER=TRUE}, which H2 does not allow together with {@code DB_CLOSE_ON_EXIT=FALSE}) registers its own,
 * which closes the database while the node's hook still waits for a delivery under way to record its outcome. The
 * PACS then had the SR and the ledger never said so (NodeLoadTest saw 35 of 36 deliveries recorded after a
 * SIGTERM), and the next start sent it again. Handling the two signals runs the node's stop first; the JVM's shutdown
 * (H2's hook included) follows when the command returns, with the status the JVM gives for the signal (143 for
 * SIGTERM, which the systemd unit's {@code SuccessExitStatus} names; 130 for SIGINT), and the handler exits with
 * that status itself in case the main thread is still busy elsewhere.
 */
final class GracefulStop {
    private static final Logger LOG = LoggerFactory.getLogger(GracefulStop.class);

    private final Runnable stop;
    private final AtomicBoolean started = new AtomicBoolean();
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile int exitStatus;

    private GracefulStop(Runnable stop) {
        this.stop = stop;
    }

    /**
     * Runs {@code stop} once: on SIGTERM or SIGINT, or from a shutdown hook when the JVM exits otherwise.
     *
     * @param stop closes the node; it must end by releasing the thread that waits for the node to stop
     */
    static GracefulStop install(Runnable stop) {
        GracefulStop graceful = new GracefulStop(stop);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> graceful.run(0), "ct-triage-shutdown"));
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> {
                    LOG.info("SIG{} received: stopping the node", signal.getName());
                    graceful.run(128 + signal.getNumber());
                    // The JVM no longer exits on this signal by itself: exit here, so that a main thread busy
                    // elsewhere (the demo's wait for its SRs) does not hold the stopped process for minutes.
                    Runtime.getRuntime().exit(graceful.exitStatus());
                });
            } catch (IllegalArgumentException taken) {
                // The JVM runs with -Xrs or the signal is reserved here: the shutdown hook stops the node instead.
                LOG.warn("cannot handle SIG{} ({}); the shutdown hook stops the node", name, taken.getMessage());
            }
        }
        return graceful;
    }

    /** Stops the node now, from the command itself (status 0), or waits for the stop already under way. */
    void stopNow() {
        run(0);
    }

    /** The command's status once stopped: the signal's conventional status (128 + its number), else 0. */
    int exitStatus() {
        return exitStatus;
    }

    /** Runs the stop, or waits for the one under way (a second SIGTERM must not start the JVM's exit early). */
    private void run(int status) {
        if (started.compareAndSet(false, true)) {
            exitStatus = status;
            try {
                stop.run();
            } finally {
                finished.countDown();
            }
            return;
        }
        try {
            finished.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
