package org.cttriage.hl7.delivery;

import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.cttriage.core.config.DurationSyntax;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.node.RetryPolicy;
import org.cttriage.hl7.mapping.MessageType;
import org.cttriage.hl7.mapping.OrderMessageMapper;
import org.cttriage.hl7.mapping.OrderMessageOptions;
import org.cttriage.hl7.mapping.ProcessingId;

/**
 * Settings of the delivery of the suggested priority to the RIS over MLLP, validated once when built; from the
 * {@code hl7.*} configuration keys with {@link #fromConfig(Function)} ({@link #CONFIG_KEYS} lists them with their
 * defaults, the one home of those defaults).
 *
 * @param host the RIS's MLLP listener
 * @param port its port
 * @param message how the order message is addressed and coded
 * @param minPriority results below this priority are not sent (the RIS's order keeps its own priority)
 * @param connectTimeout TCP connect timeout
 * @param ackTimeout longest wait for the acknowledgement, and longest silence within it
 * @param retry the HL7 lane's retries and dead letters
 */
public record Hl7Options(String host, int port, OrderMessageOptions message, Priority minPriority,
        Duration connectTimeout, Duration ackTimeout, RetryPolicy retry) {

    /** The IANA port of HL7 over MLLP ("hl7"). */
    public static final int DEFAULT_PORT = 2575;
    /** Longest connect timeout: two of them and two acknowledgement waits stay within a delivery's claim. */
    static final Duration MAX_CONNECT_TIMEOUT = Duration.ofMinutes(1);
    /** Longest acknowledgement wait (see {@link #MAX_CONNECT_TIMEOUT}). */
    static final Duration MAX_ACK_TIMEOUT = Duration.ofMinutes(2);

    /** One configuration key: its name, its default ("" where there is none) and what it sets. */
    public record ConfigKey(String key, String defaultValue, String description) {
    }

    /** Every key {@link #fromConfig(Function)} reads, with its default and a one-line description. */
    public static final List<ConfigKey> CONFIG_KEYS = List.of(
            new ConfigKey("hl7.host", "", "Host name or address of the RIS's HL7 v2 MLLP listener; set it to send each"
                    + " result's suggested priority to the RIS (docs/hl7-mapping.md)."),
            new ConfigKey("hl7.port", String.valueOf(DEFAULT_PORT), "TCP port of that listener (1-65535)."),
            new ConfigKey("hl7.message-type", "ORM_O01", "ORM_O01 (ORC-1 XO, priority in ORC-7/OBR-27) or OMI_O23"
                    + " (ORC-1 XO, priority in TQ1-9), as the RIS's interface expects."),
            new ConfigKey("hl7.sending-application", "CTTRIAGE", "MSH-3, our application's name as the RIS knows it"
                    + " (at most 20 characters, no HL7 delimiters)."),
            new ConfigKey("hl7.sending-facility", "", "MSH-4, our facility (empty: not sent)."),
            new ConfigKey("hl7.receiving-application", "", "MSH-5, the RIS's application name (empty: not sent)."),
            new ConfigKey("hl7.receiving-facility", "", "MSH-6, the RIS's facility (empty: not sent)."),
            new ConfigKey("hl7.processing-id", "P", "MSH-11: P (production), T (training: a RIS test system) or D"
                    + " (debugging)."),
            new ConfigKey("hl7.priority-codes", "routine=R,urgent=A,asap=A,stat=S", "Our priority to the HL7 priority"
                    + " code (table 0027/0485: S, A, R, P, C, T, PRN, TS<n>…), each of routine, urgent, asap, stat."),
            new ConfigKey("hl7.min-priority", "urgent", "Results below this priority (routine, urgent, asap or stat)"
                    + " send nothing: the order keeps the priority it has; the delivery is recorded as done."),
            new ConfigKey("hl7.connect-timeout", "10s", "TCP connect timeout (up to 1m)."),
            new ConfigKey("hl7.ack-timeout", "30s", "Longest wait for the RIS's acknowledgement (up to 2m); then the"
                    + " attempt is retried."),
            new ConfigKey("hl7.max-attempts", "20", "Attempts before a result's HL7 delivery goes to the dead letters"
                    + " (1..100; the default rides out about an hour's outage)."),
            new ConfigKey("hl7.initial-backoff", "2s", "Wait after the first failed attempt."),
            new ConfigKey("hl7.backoff-multiplier", "2.0", "Factor applied to the wait after each further failed"
                    + " attempt (1.0..10.0)."),
            new ConfigKey("hl7.max-backoff", "5m", "Longest wait between attempts."));

    public Hl7Options {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("hl7.host is required for HL7 delivery: the RIS's MLLP listener");
        }
        host = host.trim();
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("hl7.port: '" + port + "' is not allowed; allowed: 1..65535");
        }
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(minPriority, "minPriority");
        check("hl7.connect-timeout", connectTimeout, MAX_CONNECT_TIMEOUT);
        check("hl7.ack-timeout", ackTimeout, MAX_ACK_TIMEOUT);
        Objects.requireNonNull(retry, "retry");
    }

    private static void check(String key, Duration d, Duration max) {
        if (d == null || d.isNegative() || d.isZero() || d.compareTo(max) > 0) {
            throw new IllegalArgumentException(key + ": '" + (d == null ? null : DurationSyntax.format(d))
                    + "' is not allowed; allowed: more than 0 up to " + DurationSyntax.format(max));
        }
    }

    /**
     * Options from configuration keys ({@link #CONFIG_KEYS}); {@code lookup} returns a key's value or null when unset
     * (a blank value counts as unset).
     *
     * @throws IllegalArgumentException naming the key and its allowed values when a value is not allowed, or when
     *     hl7.host is missing
     */
    public static Hl7Options fromConfig(Function<String, String> lookup) {
        Objects.requireNonNull(lookup, "lookup");
        Function<String, String> v = key -> {
            String value = lookup.apply(key);
            if (value == null || value.isBlank()) {
                return CONFIG_KEYS.stream().filter(k -> k.key().equals(key)).findFirst().orElseThrow().defaultValue();
            }
            return value.trim();
        };
        MessageType type = choice("hl7.message-type", v.apply("hl7.message-type"), MessageType.class);
        ProcessingId processing = choice("hl7.processing-id", v.apply("hl7.processing-id"), ProcessingId.class);
        for (String key : List.of("hl7.sending-application", "hl7.sending-facility", "hl7.receiving-application",
                "hl7.receiving-facility")) {
            if (!OrderMessageOptions.HD_NAMESPACE.matcher(v.apply(key)).matches()) {
                throw new IllegalArgumentException(key + ": '" + v.apply(key) + "' is not allowed; allowed: at most 20"
                        + " characters without HL7 delimiters (| ^ ~ \\ &)");
            }
        }
        OrderMessageOptions message;
        try {
            message = new OrderMessageOptions(type, v.apply("hl7.sending-application"), v.apply("hl7.sending-facility"),
                    v.apply("hl7.receiving-application"), v.apply("hl7.receiving-facility"), processing,
                    priorityCodes(v.apply("hl7.priority-codes")));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("hl7.*: " + e.getMessage(), e);
        }
        Priority min = priority("hl7.min-priority", v.apply("hl7.min-priority"));
        int maxAttempts = integer("hl7.max-attempts", v.apply("hl7.max-attempts"), 1, 100);
        double multiplier;
        try {
            multiplier = Double.parseDouble(v.apply("hl7.backoff-multiplier"));
        } catch (NumberFormatException e) {
            multiplier = Double.NaN;
        }
        if (!(multiplier >= 1.0 && multiplier <= 10.0)) {
            throw new IllegalArgumentException("hl7.backoff-multiplier: '" + v.apply("hl7.backoff-multiplier")
                    + "' is not allowed; allowed: a number within 1.0..10.0");
        }
        Duration initial = duration("hl7.initial-backoff", v.apply("hl7.initial-backoff"));
        Duration max = duration("hl7.max-backoff", v.apply("hl7.max-backoff"));
        if (initial.isNegative() || initial.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("hl7.initial-backoff: '" + v.apply("hl7.initial-backoff")
                    + "' is not allowed; allowed: 0s to 1h");
        }
        if (max.compareTo(Duration.ofSeconds(1)) < 0 || max.compareTo(Duration.ofHours(1)) > 0
                || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("hl7.max-backoff: '" + v.apply("hl7.max-backoff") + "' is not allowed;"
                    + " allowed: 1s to 1h, not shorter than hl7.initial-backoff");
        }
        RetryPolicy retry = new RetryPolicy(maxAttempts, initial, multiplier, max);
        return new Hl7Options(lookup.apply("hl7.host") == null ? null : lookup.apply("hl7.host").trim(),
                integer("hl7.port", v.apply("hl7.port"), 1, 65535), message, min,
                duration("hl7.connect-timeout", v.apply("hl7.connect-timeout")),
                duration("hl7.ack-timeout", v.apply("hl7.ack-timeout")), retry);
    }

    /** These options with another destination: for tests and for {@code ct-triage config check}'s report. */
    public Hl7Options withAddress(String newHost, int newPort) {
        return new Hl7Options(newHost, newPort, message, minPriority, connectTimeout, ackTimeout, retry);
    }

    /** Parses {@code routine=R,urgent=A,asap=A,stat=S}: every priority exactly once. */
    static Map<Priority, String> priorityCodes(String value) {
        String allowed = "; allowed: routine=CODE,urgent=CODE,asap=CODE,stat=CODE with codes of HL7 table 0485 (S, A,"
                + " R, P, C, T, PRN, TS<n>, TM<n>, TH<n>, TD<n>, TW<n>, TL<n>)";
        Map<Priority, String> codes = new EnumMap<>(Priority.class);
        for (String entry : value.split(",")) {
            int eq = entry.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("hl7.priority-codes: '" + value + "' is not allowed" + allowed);
            }
            Priority p;
            try {
                p = Priority.fromFhirCode(entry.substring(0, eq).trim().toLowerCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("hl7.priority-codes: '" + value + "' is not allowed" + allowed, e);
            }
            String code = entry.substring(eq + 1).trim().toUpperCase(Locale.ROOT);
            if (codes.put(p, code) != null || !OrderMessageOptions.PRIORITY_CODE.matcher(code).matches()) {
                throw new IllegalArgumentException("hl7.priority-codes: '" + value + "' is not allowed" + allowed);
            }
        }
        if (codes.size() != Priority.values().length) {
            Set<String> missing = new LinkedHashSet<>();
            for (Priority p : Priority.values()) {
                if (!codes.containsKey(p)) {
                    missing.add(p.fhirCode());
                }
            }
            throw new IllegalArgumentException("hl7.priority-codes: '" + value + "' does not give "
                    + String.join(", ", missing) + allowed);
        }
        return codes;
    }

    private static Priority priority(String key, String value) {
        try {
            return Priority.fromFhirCode(value.toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": '" + value + "' is not allowed; allowed: routine, urgent, asap,"
                    + " stat", e);
        }
    }

    private static <E extends Enum<E>> E choice(String key, String value, Class<E> type) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": '" + value + "' is not allowed; allowed: "
                    + java.util.Arrays.stream(type.getEnumConstants()).map(Enum::name).collect(Collectors.joining(", ")),
                    e);
        }
    }

    private static int integer(String key, String value, int min, int max) {
        try {
            int i = Integer.parseInt(value);
            if (i >= min && i <= max) {
                return i;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(key + ": '" + value + "' is not allowed; allowed: a whole number within "
                + min + ".." + max);
    }

    private static Duration duration(String key, String value) {
        return DurationSyntax.parse(key, value);
    }

    /** The order message's HL7 version, for the operator's lines. */
    public String describe() {
        return message.type().code() + "^" + message.type().trigger() + " v" + OrderMessageMapper.VERSION + " to "
                + host + ":" + port;
    }
}
