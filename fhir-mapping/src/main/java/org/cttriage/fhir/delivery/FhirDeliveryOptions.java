package org.cttriage.fhir.delivery;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Settings of the delivery of transaction bundles to a FHIR server, validated once when built. Build with
 * {@link #builder(URI)} or from configuration keys with {@link #fromConfig(Function)} ({@link #CONFIG_KEYS}
 * lists them). Defaults:
 * <ul>
 *   <li>connect timeout 10 s; read (socket) timeout 60 s — a transaction of a handful of resources normally
 *       takes well under a second, but servers that index synchronously can take tens of seconds;</li>
 *   <li>authentication {@link FhirAuthentication#none() NONE};</li>
 *   <li>6 attempts, backoff 2 s doubling to at most 5 min (2 + 4 + 8 + 16 + 32 s between the attempts when the
 *       server gives no Retry-After; a Retry-After is honoured up to the maximum backoff);</li>
 *   <li>validation {@link Validation#VALIDATE VALIDATE};</li>
 *   <li>dead-letter directory {@code var/fhir-dead-letters}, relative to the working directory.</li>
 * </ul>
 *
 * @param baseUrl           the FHIR server's base URL (http or https), the transaction is POSTed to it; required
 * @param connectTimeout    TCP connect timeout
 * @param readTimeout       socket (read) timeout: the longest silence while waiting for the answer
 * @param authentication    how to authenticate
 * @param maxAttempts       attempts at a result before the delivery model dead-letters it, 1..100
 * @param initialBackoff    wait after the first failed attempt
 * @param backoffMultiplier factor applied to the wait after each further failed attempt, 1.0..10.0
 * @param maxBackoff        longest wait between attempts, also the cap of a server's Retry-After
 * @param validation        whether bundles are validated against the R4 definitions before they are sent
 * @param deadLetterDir     the dead-letter folder of versions before the delivery model (read only)
 */
public record FhirDeliveryOptions(URI baseUrl, Duration connectTimeout, Duration readTimeout,
                                  FhirAuthentication authentication, int maxAttempts, Duration initialBackoff,
                                  double backoffMultiplier, Duration maxBackoff, Validation validation,
                                  Path deadLetterDir) {

    /** Whether a bundle is validated before it is sent. */
    public enum Validation {
        /** Validate against the R4 core definitions (offline); a bundle with errors is dead-lettered unsent (default). */
        VALIDATE,
        /** Send without validating (the caller validated already, or as a stop-gap against a validator defect). */
        SKIP
    }

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(60);
    public static final int DEFAULT_MAX_ATTEMPTS = 20;
    public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofSeconds(2);
    public static final double DEFAULT_BACKOFF_MULTIPLIER = 2.0;
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofMinutes(5);
    public static final Path DEFAULT_DEAD_LETTER_DIR = Path.of("var", "fhir-dead-letters");

    /** Longest timeout or backoff accepted: beyond an hour a setting is a mistake, not a choice. */
    private static final Duration MAX_DURATION = Duration.ofHours(1);

    /** One configuration key: its name, its default ("" where there is none) and what it sets. */
    public record ConfigKey(String key, String defaultValue, String description) {
    }

    /** Every key {@link #fromConfig(Function)} reads, with its default and a one-line description. */
    public static final List<ConfigKey> CONFIG_KEYS = List.of(
            new ConfigKey("fhir.url", "", "Base URL of the FHIR R4 server (http:// or https://); transactions are POSTed"
                    + " to it. Required for FHIR delivery."),
            new ConfigKey("fhir.auth", "none", "Authentication: none, bearer (static token) or oauth2 (client"
                    + " credentials grant)."),
            new ConfigKey("fhir.token", "", "Static bearer token (fhir.auth=bearer)."),
            new ConfigKey("fhir.token-url", "", "OAuth2 token endpoint (fhir.auth=oauth2)."),
            new ConfigKey("fhir.client-id", "", "OAuth2 client id (fhir.auth=oauth2)."),
            new ConfigKey("fhir.client-secret", "", "OAuth2 client secret (fhir.auth=oauth2), sent with HTTP Basic."),
            new ConfigKey("fhir.scope", "", "OAuth2 scope to request (fhir.auth=oauth2); unset asks for the client's"
                    + " default scope."),
            new ConfigKey("fhir.connect-timeout", "10s", "TCP connect timeout (500ms, 10s, 1m or ISO-8601 PT10S)."),
            new ConfigKey("fhir.read-timeout", "60s", "Socket read timeout: longest wait for the server's answer."),
            new ConfigKey("fhir.max-attempts", String.valueOf(DEFAULT_MAX_ATTEMPTS), "Attempts before a result's FHIR"
                    + " delivery goes to the dead letters (1..100; the default rides out about an hour's outage);"
                    + " 5xx, 408, 429, timeouts, connection errors and unreadable answers are retried."),
            new ConfigKey("fhir.initial-backoff", "2s", "Wait after the first failed attempt."),
            new ConfigKey("fhir.backoff-multiplier", "2.0", "Factor applied to the wait after each further failed"
                    + " attempt (1.0..10.0)."),
            new ConfigKey("fhir.max-backoff", "5m", "Longest wait between attempts; also caps the server's Retry-After."),
            new ConfigKey("fhir.validate", "true", "Validate each bundle against the FHIR R4 definitions before"
                    + " sending (true or false); an invalid bundle is dead-lettered unsent."),
            new ConfigKey("fhir.dead-letter-dir", DEFAULT_DEAD_LETTER_DIR.toString(), "The FHIR dead-letter folder of"
                    + " versions before the delivery model (nothing is written there now): ct-triage dead-letters lists,"
                    + " resends and discards what it still holds."));

    public FhirDeliveryOptions {
        if (baseUrl == null || !baseUrl.isAbsolute() || baseUrl.getHost() == null
                || !("http".equalsIgnoreCase(baseUrl.getScheme()) || "https".equalsIgnoreCase(baseUrl.getScheme()))) {
            throw new IllegalArgumentException("baseUrl (fhir.url) must be an absolute http:// or https:// URL, got "
                    + baseUrl);
        }
        if (baseUrl.getQuery() != null || baseUrl.getFragment() != null) {
            throw new IllegalArgumentException("baseUrl (fhir.url) must be the server's base, without ?query or"
                    + " #fragment, got " + baseUrl);
        }
        checkDuration("connectTimeout (fhir.connect-timeout)", connectTimeout, false);
        checkDuration("readTimeout (fhir.read-timeout)", readTimeout, false);
        Objects.requireNonNull(authentication, "authentication (fhir.auth): allowed none, bearer, oauth2");
        if (maxAttempts < 1 || maxAttempts > 100) {
            throw new IllegalArgumentException("maxAttempts (fhir.max-attempts) must be within 1..100, got " + maxAttempts);
        }
        checkDuration("initialBackoff (fhir.initial-backoff)", initialBackoff, true);
        if (!(backoffMultiplier >= 1.0 && backoffMultiplier <= 10.0)) {
            throw new IllegalArgumentException("backoffMultiplier (fhir.backoff-multiplier) must be within 1.0..10.0, got "
                    + backoffMultiplier);
        }
        checkDuration("maxBackoff (fhir.max-backoff)", maxBackoff, true);
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("maxBackoff (fhir.max-backoff) " + maxBackoff
                    + " must not be shorter than initialBackoff (fhir.initial-backoff) " + initialBackoff);
        }
        Objects.requireNonNull(validation, "validation (fhir.validate): allowed true (VALIDATE) or false (SKIP)");
        Objects.requireNonNull(deadLetterDir, "deadLetterDir (fhir.dead-letter-dir) is required");
    }

    private static void checkDuration(String name, Duration d, boolean zeroAllowed) {
        if (d == null || d.isNegative() || (!zeroAllowed && d.isZero()) || d.compareTo(MAX_DURATION) > 0) {
            throw new IllegalArgumentException(name + " must be " + (zeroAllowed ? "0" : "more than 0") + " to 1h, got " + d);
        }
    }

    /** Whether bundles are validated before they are sent ({@link Validation#VALIDATE}). */
    public boolean validateBeforeSend() {
        return validation == Validation.VALIDATE;
    }

    /** A builder with every default of this record, for the server at {@code baseUrl}. */
    public static Builder builder(URI baseUrl) {
        return new Builder(baseUrl);
    }

    /** A builder holding these options, to change some of them. */
    public Builder toBuilder() {
        return new Builder(baseUrl).connectTimeout(connectTimeout).readTimeout(readTimeout)
                .authentication(authentication).maxAttempts(maxAttempts).initialBackoff(initialBackoff)
                .backoffMultiplier(backoffMultiplier).maxBackoff(maxBackoff).validation(validation)
                .deadLetterDir(deadLetterDir);
    }

    /**
     * Options from configuration keys ({@link #CONFIG_KEYS}); {@code lookup} returns a key's value or null when unset
     * (a blank value counts as unset).
     *
     * @throws IllegalArgumentException naming the key and its allowed values when a value is not allowed, or when
     *                                  fhir.url is missing
     */
    public static FhirDeliveryOptions fromConfig(Function<String, String> lookup) {
        Objects.requireNonNull(lookup, "lookup");
        String url = value(lookup, "fhir.url");
        if (url == null) {
            throw new IllegalArgumentException("fhir.url is required for FHIR delivery: the server's base URL,"
                    + " e.g. https://fhir.example.org/fhir");
        }
        Builder b = builder(uri("fhir.url", url));
        String v;
        if ((v = value(lookup, "fhir.connect-timeout")) != null) {
            b.connectTimeout(duration("fhir.connect-timeout", v));
        }
        if ((v = value(lookup, "fhir.read-timeout")) != null) {
            b.readTimeout(duration("fhir.read-timeout", v));
        }
        if ((v = value(lookup, "fhir.max-attempts")) != null) {
            try {
                b.maxAttempts(Integer.parseInt(v));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("fhir.max-attempts: '" + v + "' is not allowed; allowed: a whole"
                        + " number within 1..100", e);
            }
        }
        if ((v = value(lookup, "fhir.initial-backoff")) != null) {
            b.initialBackoff(duration("fhir.initial-backoff", v));
        }
        if ((v = value(lookup, "fhir.backoff-multiplier")) != null) {
            try {
                b.backoffMultiplier(Double.parseDouble(v));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("fhir.backoff-multiplier: '" + v + "' is not allowed; allowed: a"
                        + " number within 1.0..10.0", e);
            }
        }
        if ((v = value(lookup, "fhir.max-backoff")) != null) {
            b.maxBackoff(duration("fhir.max-backoff", v));
        }
        if ((v = value(lookup, "fhir.validate")) != null) {
            b.validation(switch (v.toLowerCase(Locale.ROOT)) {
                case "true", "validate" -> Validation.VALIDATE;
                case "false", "skip" -> Validation.SKIP;
                default -> throw new IllegalArgumentException("fhir.validate: '" + v + "' is not allowed; allowed: true,"
                        + " false");
            });
        }
        if ((v = value(lookup, "fhir.dead-letter-dir")) != null) {
            try {
                b.deadLetterDir(Path.of(v));
            } catch (InvalidPathException e) {
                throw new IllegalArgumentException("fhir.dead-letter-dir: '" + v + "' is not allowed; allowed: a"
                        + " directory path", e);
            }
        }
        String auth = value(lookup, "fhir.auth");
        FhirAuthentication.Method method = auth == null ? FhirAuthentication.Method.NONE : authMethod(auth);
        String token = value(lookup, "fhir.token");
        String tokenUrl = value(lookup, "fhir.token-url");
        String clientId = value(lookup, "fhir.client-id");
        String secret = value(lookup, "fhir.client-secret");
        String scope = value(lookup, "fhir.scope");
        b.authentication(new FhirAuthentication(method, token, tokenUrl == null ? null : uri("fhir.token-url", tokenUrl),
                clientId, secret, scope));
        return b.build();
    }

    /** Parses fhir.auth / --fhir-auth: none, bearer, oauth2 (or the enum names). */
    public static FhirAuthentication.Method authMethod(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT).replace('-', '_')) {
            case "none" -> FhirAuthentication.Method.NONE;
            case "bearer" -> FhirAuthentication.Method.BEARER;
            case "oauth2", "oauth2_client_credentials" -> FhirAuthentication.Method.OAUTH2_CLIENT_CREDENTIALS;
            default -> throw new IllegalArgumentException("fhir.auth: '" + value + "' is not allowed; allowed: none,"
                    + " bearer, oauth2");
        };
    }


    /**
     * Parses a duration as written in configuration: a whole number with a unit ms, s, m or h ({@code 500ms},
     * {@code 30s}, {@code 5m}) or ISO-8601 ({@code PT30S}).
     *
     * @throws IllegalArgumentException naming {@code key} and the allowed forms
     */
    public static Duration duration(String key, String value) {
        return org.cttriage.core.config.DurationSyntax.parse(key, value);
    }

    private static URI uri(String key, String value) {
        try {
            URI u = new URI(value.trim());
            if (!u.isAbsolute() || u.getHost() == null
                    || !("http".equalsIgnoreCase(u.getScheme()) || "https".equalsIgnoreCase(u.getScheme()))) {
                throw new URISyntaxException(value, "not an absolute http(s) URL");
            }
            return u;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(key + ": '" + value + "' is not allowed; allowed: an absolute http:// or"
                    + " https:// URL", e);
        }
    }

    private static String value(Function<String, String> lookup, String key) {
        String v = lookup.apply(key);
        return v == null || v.isBlank() ? null : v.trim();
    }

    @Override
    public String toString() {
        return "FhirDeliveryOptions[baseUrl=" + baseUrl + ", connectTimeout=" + connectTimeout + ", readTimeout="
                + readTimeout + ", authentication=" + authentication + ", maxAttempts=" + maxAttempts
                + ", initialBackoff=" + initialBackoff + ", backoffMultiplier=" + backoffMultiplier + ", maxBackoff="
                + maxBackoff + ", validation=" + validation + ", deadLetterDir=" + deadLetterDir + "]";
    }

    /** Builds {@link FhirDeliveryOptions}; starts from the defaults listed on the record. */
    public static final class Builder {
        private final URI baseUrl;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration readTimeout = DEFAULT_READ_TIMEOUT;
        private FhirAuthentication authentication = FhirAuthentication.none();
        private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
        private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
        private double backoffMultiplier = DEFAULT_BACKOFF_MULTIPLIER;
        private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
        private Validation validation = Validation.VALIDATE;
        private Path deadLetterDir = DEFAULT_DEAD_LETTER_DIR;

        private Builder(URI baseUrl) {
            this.baseUrl = baseUrl;
        }

        public Builder connectTimeout(Duration d) {
            connectTimeout = d;
            return this;
        }

        public Builder readTimeout(Duration d) {
            readTimeout = d;
            return this;
        }

        public Builder authentication(FhirAuthentication a) {
            authentication = a;
            return this;
        }

        public Builder maxAttempts(int n) {
            maxAttempts = n;
            return this;
        }

        public Builder initialBackoff(Duration d) {
            initialBackoff = d;
            return this;
        }

        public Builder backoffMultiplier(double m) {
            backoffMultiplier = m;
            return this;
        }

        public Builder maxBackoff(Duration d) {
            maxBackoff = d;
            return this;
        }

        public Builder validation(Validation v) {
            validation = v;
            return this;
        }

        public Builder deadLetterDir(Path dir) {
            deadLetterDir = dir;
            return this;
        }

        /** @throws IllegalArgumentException naming the option when one is not allowed */
        public FhirDeliveryOptions build() {
            return new FhirDeliveryOptions(baseUrl, connectTimeout, readTimeout, authentication, maxAttempts,
                    initialBackoff, backoffMultiplier, maxBackoff, validation, deadLetterDir);
        }
    }
}
