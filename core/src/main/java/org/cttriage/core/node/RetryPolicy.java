package org.cttriage.core.node;

import java.time.Duration;

/**
 * When a delivery that failed is attempted again, and when it goes to the dead letters: the wait after
 * failed attempt n (1-based) is {@code initialBackoff × multiplier^(n-1)}, at most {@code maxBackoff};
 * a destination's own Retry-After replaces it, capped by {@code maxBackoff}. After {@code maxAttempts}
 * failed attempts the delivery is dead.
 *
 * @param maxAttempts attempts before the dead letters (at least 1)
 * @param initialBackoff wait after the first failed attempt
 * @param multiplier growth of the wait per attempt (at least 1)
 * @param maxBackoff the longest wait
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, double multiplier, Duration maxBackoff) {
    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1, was " + maxAttempts);
        }
        if (initialBackoff.isNegative() || maxBackoff.isNegative()) {
            throw new IllegalArgumentException("back-off durations must not be negative");
        }
        if (!(multiplier >= 1.0)) {
            throw new IllegalArgumentException("multiplier must be at least 1, was " + multiplier);
        }
    }

    /** The wait after failed attempt {@code n} (1-based), or the destination's {@code retryAfter} when it gave one. */
    public Duration backoff(int n, Duration retryAfter) {
        long max = maxBackoff.toMillis();
        if (retryAfter != null) {
            return Duration.ofMillis(Math.min(Math.max(0, retryAfter.toMillis()), max));
        }
        double millis = initialBackoff.toMillis() * Math.pow(multiplier, Math.max(0, n - 1));
        return Duration.ofMillis(millis >= max ? max : Math.round(millis));
    }
}
