package org.cttriage.ups;

import java.net.URI;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.cttriage.core.config.DurationSyntax;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.node.RetryPolicy;

/**
 * Settings of the UPS-RS destination, validated once when built; from the {@code ups.*} configuration keys with
 * {@link #fromConfig(Function)} ({@link #CONFIG_KEYS} lists them with their defaults, the one home of those defaults).
 *
 * @param baseUrl the server's DICOMweb base; the Worklist Service's resources are {@code {baseUrl}/workitems…}
 * @param authorization the Authorization header sent with every request, or "" for none
 * @param authDescription how the node authenticates, for start-up lines (never the secret)
 * @param connectTimeout TCP connect timeout
 * @param readTimeout longest wait for an answer
 * @param retrieveAeTitle the AE title the workitem's performer retrieves the referenced SR from (DICOM Retrieval
 *     Sequence)
 * @param worklistLabel Worklist Label (0074,1202) of the workitems, "" to leave it to the server
 * @param priorities our priority to Scheduled Procedure Step Priority
 * @param retry the UPS lane's retries and dead letters
 */
public record UpsOptions(URI baseUrl, String authorization, String authDescription, Duration connectTimeout,
        Duration readTimeout, String retrieveAeTitle, String worklistLabel, Map<Priority, ProcedureStepPriority> priorities,
        RetryPolicy retry) {

    /** One configuration key: its name, its default ("" where there is none) and what it sets. */
    public record ConfigKey(String key, String defaultValue, String description) {
    }

    /** Our priority to (0074,1200) by default: routine is the normal MEDIUM, every raised priority HIGH; LOW unused. */
    public static final String DEFAULT_PRIORITIES = "routine=MEDIUM,urgent=HIGH,asap=HIGH,stat=HIGH";

    /** Every key {@link #fromConfig(Function)} reads, with its default and a one-line description. */
    public static final List<ConfigKey> CONFIG_KEYS = List.of(
            new ConfigKey("ups.url", "", "DICOMweb base of the UPS-RS server (http:// or https://), whose Worklist"
                    + " Service is {ups.url}/workitems, e.g. http://pacs:8080/dcm4chee-arc/aets/DCM4CHEE/rs; set it to"
                    + " create a UPS workitem per study (docs/ups-mapping.md)."),
            new ConfigKey("ups.auth", "none", "Authentication: none, bearer (ups.token) or basic (ups.user,"
                    + " ups.password)."),
            new ConfigKey("ups.token", "", "Static bearer token (ups.auth=bearer)."),
            new ConfigKey("ups.user", "", "User name (ups.auth=basic)."),
            new ConfigKey("ups.password", "", "Password (ups.auth=basic); keep this file readable by the node's user"
                    + " only."),
            new ConfigKey("ups.connect-timeout", "10s", "TCP connect timeout (up to 1m)."),
            new ConfigKey("ups.read-timeout", "30s", "Longest wait for the server's answer (up to 2m); then the attempt"
                    + " is retried."),
            new ConfigKey("ups.retrieve-ae-title", "", "AE title the workitem names for retrieving the SR it"
                    + " references (DICOM Retrieval Sequence); empty: the AE title of the first of"
                    + " delivery.dicom-destinations, where the SR is stored."),
            new ConfigKey("ups.worklist-label", "", "Worklist Label (0074,1202) of the workitems; empty: the server's"
                    + " own."),
            new ConfigKey("ups.priority-map", DEFAULT_PRIORITIES, "Our priority to Scheduled Procedure Step Priority"
                    + " (0074,1200) HIGH, MEDIUM or LOW, each of routine, urgent, asap, stat."),
            new ConfigKey("ups.max-attempts", "20", "Attempts before a result's UPS delivery goes to the dead letters"
                    + " (1..100; the default rides out about an hour's outage)."),
            new ConfigKey("ups.initial-backoff", "2s", "Wait after the first failed attempt."),
            new ConfigKey("ups.backoff-multiplier", "2.0", "Factor applied to the wait after each further failed"
                    + " attempt (1.0..10.0)."),
            new ConfigKey("ups.max-backoff", "5m", "Longest wait between attempts; also caps the server's"
                    + " Retry-After."));

    public UpsOptions {
        Objects.requireNonNull(baseUrl, "baseUrl");
        Objects.requireNonNull(authorization, "authorization");
        Objects.requireNonNull(retrieveAeTitle, "retrieveAeTitle");
        Objects.requireNonNull(worklistLabel, "worklistLabel");
        priorities = Map.copyOf(priorities);
        Objects.requireNonNull(retry, "retry");
    }

    /** One line for start-up output and {@code config check}: the URL and how the node authenticates. */
    public String describe() {
        return baseUrl + " (" + authDescription + ")";
    }

    /**
     * Options from configuration keys ({@link #CONFIG_KEYS}); {@code lookup} returns a key's value or null when unset (a
     * blank value counts as unset).
     *
     * @param defaultRetrieveAeTitle the AE title used when {@code ups.retrieve-ae-title} is not set ("" when none)
     * @throws IllegalArgumentException naming the key and its allowed values
     */
    public static UpsOptions fromConfig(Function<String, String> lookup, String defaultRetrieveAeTitle) {
        Function<String, String> v = key -> {
            String value = lookup.apply(key);
            if (value == null || value.isBlank()) {
                return CONFIG_KEYS.stream().filter(k -> k.key().equals(key)).findFirst().orElseThrow().defaultValue();
            }
            return value.trim();
        };
        String url = v.apply("ups.url");
        URI base;
        try {
            base = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        } catch (IllegalArgumentException e) {
            base = null;
        }
        if (base == null || base.getHost() == null || !(url.startsWith("http://") || url.startsWith("https://"))
                || base.getRawQuery() != null || base.getRawFragment() != null) {
            throw new IllegalArgumentException("ups.url: '" + url + "' is not allowed; allowed: the server's DICOMweb"
                    + " base, http:// or https://, without query");
        }
        String authorization;
        String described;
        switch (v.apply("ups.auth").toLowerCase(Locale.ROOT)) {
            case "none" -> {
                authorization = "";
                described = "no authentication";
            }
            case "bearer" -> {
                String token = v.apply("ups.token");
                if (token.isEmpty() || !token.matches("[\\x21-\\x7e]+")) {
                    throw new IllegalArgumentException("ups.token: a token without spaces is required by ups.auth=bearer");
                }
                authorization = "Bearer " + token;
                described = "bearer token";
            }
            case "basic" -> {
                String user = v.apply("ups.user");
                if (user.isEmpty() || user.contains(":")) {
                    throw new IllegalArgumentException("ups.user: a user name without ':' is required by ups.auth=basic");
                }
                authorization = "Basic " + java.util.Base64.getEncoder().encodeToString((user + ":"
                        + v.apply("ups.password")).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                described = "basic as " + user;
            }
            default -> throw new IllegalArgumentException("ups.auth: '" + v.apply("ups.auth") + "' is not allowed;"
                    + " allowed: none, bearer, basic");
        }
        String aet = v.apply("ups.retrieve-ae-title").isEmpty() ? defaultRetrieveAeTitle : v.apply("ups.retrieve-ae-title");
        if (aet == null || aet.isEmpty() || aet.length() > 16 || aet.contains("\\")) {
            throw new IllegalArgumentException("ups.retrieve-ae-title: '" + (aet == null ? "" : aet) + "' is not"
                    + " allowed; allowed: 1-16 characters without backslash (needed when delivery.dicom-destinations is"
                    + " empty)");
        }
        String label = v.apply("ups.worklist-label");
        if (label.length() > 64 || label.contains("\\")) {
            throw new IllegalArgumentException("ups.worklist-label: at most 64 characters without backslash (LO)");
        }
        Duration connect = duration("ups.connect-timeout", v.apply("ups.connect-timeout"), Duration.ofMillis(1),
                Duration.ofMinutes(1));
        Duration read = duration("ups.read-timeout", v.apply("ups.read-timeout"), Duration.ofMillis(1),
                Duration.ofMinutes(2));
        int maxAttempts;
        try {
            maxAttempts = Integer.parseInt(v.apply("ups.max-attempts"));
        } catch (NumberFormatException e) {
            maxAttempts = 0;
        }
        if (maxAttempts < 1 || maxAttempts > 100) {
            throw new IllegalArgumentException("ups.max-attempts: '" + v.apply("ups.max-attempts") + "' is not allowed;"
                    + " allowed: 1..100");
        }
        double multiplier;
        try {
            multiplier = Double.parseDouble(v.apply("ups.backoff-multiplier"));
        } catch (NumberFormatException e) {
            multiplier = Double.NaN;
        }
        if (!(multiplier >= 1.0 && multiplier <= 10.0)) {
            throw new IllegalArgumentException("ups.backoff-multiplier: '" + v.apply("ups.backoff-multiplier")
                    + "' is not allowed; allowed: a number within 1.0..10.0");
        }
        Duration initial = duration("ups.initial-backoff", v.apply("ups.initial-backoff"), Duration.ZERO,
                Duration.ofHours(1));
        Duration max = duration("ups.max-backoff", v.apply("ups.max-backoff"), Duration.ofSeconds(1), Duration.ofHours(1));
        if (max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("ups.max-backoff: not shorter than ups.initial-backoff");
        }
        return new UpsOptions(base, authorization, described, connect, read, aet, label,
                priorities(v.apply("ups.priority-map")), new RetryPolicy(maxAttempts, initial, multiplier, max));
    }

    /** Parses {@code routine=MEDIUM,urgent=HIGH,…}: every priority exactly once. */
    static Map<Priority, ProcedureStepPriority> priorities(String value) {
        String allowed = "' is not allowed; allowed: routine=P,urgent=P,asap=P,stat=P with P one of HIGH, MEDIUM, LOW";
        Map<Priority, ProcedureStepPriority> out = new EnumMap<>(Priority.class);
        for (String entry : value.split(",")) {
            String[] kv = entry.split("=", 2);
            try {
                if (kv.length != 2 || out.put(Priority.fromFhirCode(kv[0].trim().toLowerCase(Locale.ROOT)),
                        ProcedureStepPriority.valueOf(kv[1].trim().toUpperCase(Locale.ROOT))) != null) {
                    throw new IllegalArgumentException("each priority once");
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("ups.priority-map: '" + value + allowed, e);
            }
        }
        if (out.size() != Priority.values().length) {
            throw new IllegalArgumentException("ups.priority-map: '" + value + allowed);
        }
        for (Priority p : Priority.values()) {
            for (Priority q : Priority.values()) {
                if (p.compareTo(q) < 0 && out.get(p).compareTo(out.get(q)) > 0) {
                    throw new IllegalArgumentException("ups.priority-map: '" + value + "' is not allowed: "
                            + q.fhirCode() + " would map below " + p.fhirCode() + " (the order must be kept)");
                }
            }
        }
        return out;
    }

    private static Duration duration(String key, String value, Duration min, Duration max) {
        Duration d;
        try {
            d = DurationSyntax.parse(key, value);
        } catch (IllegalArgumentException e) {
            d = null;
        }
        if (d == null || d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new IllegalArgumentException(key + ": '" + value + "' is not allowed; allowed: a duration from "
                    + DurationSyntax.format(min) + " to " + DurationSyntax.format(max) + " (500ms, 10s, 5m or PT10S)");
        }
        return d;
    }
}
