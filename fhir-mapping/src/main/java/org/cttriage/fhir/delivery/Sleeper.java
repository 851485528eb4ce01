package org.cttriage.fhir.delivery;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Waits between delivery attempts. Injected so that tests record the waits instead of sleeping, and so that a
 * host (Camel, a scheduler) can decide how a delivery thread waits.
 */
@FunctionalInterface
public interface Sleeper {
    /** Blocks the calling thread for {@code duration}. */
    void sleep(Duration duration) throws InterruptedException;

    /** Sleeps the calling thread ({@link TimeUnit#sleep}). */
    static Sleeper system() {
        return d -> TimeUnit.NANOSECONDS.sleep(d.toNanos());
    }
}
