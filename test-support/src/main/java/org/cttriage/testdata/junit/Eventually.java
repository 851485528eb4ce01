package org.cttriage.testdata.junit;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Polls a real peer until it reaches a state, for tests that wait on something another process
 * does (Orthanc routing a stable series, a node answering with an SR). The timeout is a deadline
 * for a failure message, never a measurement: a test asserts the state, not how long it took.
 */
public final class Eventually {
    private static final Duration FIRST_PAUSE = Duration.ofMillis(20);
    private static final Duration LONGEST_PAUSE = Duration.ofMillis(250);

    private Eventually() {
    }

    /**
     * Calls {@code probe} until {@code done} accepts its value and returns that value. A probe that
     * throws, an exception or an {@link AssertionError} (a scripted peer's "association not accepted"
     * while the node still closes the previous one), counts as "not yet". On timeout it throws
     * an {@link AssertionError} naming {@code what}, the last value and the last exception.
     */
    public static <T> T await(Duration timeout, String what, Callable<T> probe, Predicate<? super T> done)
            throws InterruptedException {
        return await(timeout, () -> what, probe, done);
    }

    /**
     * {@link #await(Duration, String, Callable, Predicate)} with a description made only on failure, so
     * it can carry the peer's log as it was then.
     */
    public static <T> T await(Duration timeout, Supplier<String> what, Callable<T> probe, Predicate<? super T> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = FIRST_PAUSE.toMillis();
        T last = null;
        Throwable lastError = null;
        while (true) {
            try {
                last = probe.call();
                lastError = null;
                if (done.test(last)) {
                    return last;
                }
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception | AssertionError e) {
                lastError = e;
            }
            if (System.nanoTime() - deadline >= 0) {
                AssertionError failure = new AssertionError(
                        what.get() + " did not happen within " + timeout + "; last value: " + last
                                + (lastError == null ? "" : "; last error: " + lastError));
                if (lastError != null) {
                    failure.initCause(lastError);
                }
                throw failure;
            }
            Thread.sleep(pause);
            pause = Math.min(pause * 2, LONGEST_PAUSE.toMillis());
        }
    }

    /** {@link #await} for a yes/no probe. */
    public static void awaitTrue(Duration timeout, String what, Callable<Boolean> probe) throws InterruptedException {
        await(timeout, what, probe, Boolean.TRUE::equals);
    }
}
