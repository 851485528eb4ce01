package org.cttriage.core.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one way durations are written in ct-triage's configuration: a whole number and a unit ({@code 500ms},
 * {@code 10s}, {@code 5m}, {@code 72h}; {@code 0} alone is zero) or ISO-8601 ({@code PT10S}). Every duration key, the node's and the
 * {@code fhir.*} ones, reads through here.
 */
public final class DurationSyntax {
    private static final Pattern SHORT = Pattern.compile("(\\d{1,9})\\s*(ms|s|m|h)");

    private DurationSyntax() {
    }

    /**
     * The duration {@code value} of configuration key {@code key}.
     *
     * @throws IllegalArgumentException naming the key and the allowed forms
     */
    public static Duration parse(String key, String value) {
        String v = value == null ? "" : value.trim();
        if (v.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = SHORT.matcher(v.toLowerCase(Locale.ROOT));
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
        }
        try {
            return Duration.parse(v);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(key + ": '" + value + "' is not allowed; allowed: a duration such as"
                    + " 500ms, 30s, 5m, 1h or PT30S", e);
        }
    }

    /** {@code d} as this syntax writes it, in its largest whole unit: 10s, 5m, 72h, 250ms. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0 && ms > 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0 && ms > 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
