package org.cttriage.core.dicom.net;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Admits one log line per key (a code and a host) per window and counts the ones it held back,
 * so that a peer opening connections in a loop cannot flood the log: the first line is written
 * at once, the next one after the window says how many were suppressed meanwhile.
 */
final class LogThrottle {
    /** Keys kept at most; beyond this, keys whose window ended are forgotten. */
    private static final int MAX_KEYS = 4096;

    private final Clock clock;
    private final Duration window;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    private static final class Entry {
        Instant windowStart;
        long suppressed;

        Entry(Instant start) {
            this.windowStart = start;
        }
    }

    LogThrottle(Clock clock, Duration window) {
        this.clock = clock;
        this.window = window;
    }

    /**
     * Whether a line for {@code key} may be written now: -1 when it is to be suppressed,
     * otherwise how many were suppressed since the last one written (to mention in it).
     */
    long admit(String key) {
        Instant now = clock.instant();
        if (entries.size() > MAX_KEYS) {
            forgetOld(now);
        }
        long[] result = new long[1];
        entries.compute(key, (k, e) -> {
            if (e == null) {
                result[0] = 0;
                return new Entry(now);
            }
            if (Duration.between(e.windowStart, now).compareTo(window) >= 0) {
                result[0] = e.suppressed;
                e.windowStart = now;
                e.suppressed = 0;
            } else {
                e.suppressed++;
                result[0] = -1;
            }
            return e;
        });
        return result[0];
    }

    /** The suffix for a line admitted with {@code suppressed}. */
    static String suffix(long suppressed) {
        return suppressed > 0 ? " (" + suppressed + " more like this suppressed)" : "";
    }

    private void forgetOld(Instant now) {
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext();) {
            if (Duration.between(it.next().windowStart, now).compareTo(window) >= 0) {
                it.remove();
            }
        }
    }
}
