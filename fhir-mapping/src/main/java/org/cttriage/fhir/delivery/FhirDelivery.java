package org.cttriage.fhir.delivery;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.FhirVersionEnum;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.RequestFormatParamStyleEnum;
import ca.uhn.fhir.rest.client.api.ClientResponseContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.IHttpRequest;
import ca.uhn.fhir.rest.client.api.IHttpResponse;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.apache.ApacheHttpRequest;
import ca.uhn.fhir.rest.client.apache.ApacheRestfulClientFactory;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.validation.SingleValidationMessage;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.node.Exporter;
import org.cttriage.core.node.RetryPolicy;
import org.cttriage.fhir.mapping.BundleValidator;
import org.hl7.fhir.instance.model.api.IBaseOperationOutcome;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.StringType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends transaction bundles (from {@link org.cttriage.fhir.mapping.TriageBundleMapper}) to a FHIR R4 server with
 * HAPI's generic client, one attempt per call, and says how it went as the delivery model's
 * {@link Exporter.Attempt}. It never waits and never retries: the node's delivery model ({@code DeliveryScheduler},
 * {@code DeliveryLedger}) decides when to attempt again and when to give up.
 *
 * <table>
 *   <caption>What each answer becomes</caption>
 *   <tr><th>answer</th><th>attempt</th></tr>
 *   <tr><td>2xx with a transaction-response Bundle</td><td>{@link Exporter.Attempt.Delivered}</td></tr>
 *   <tr><td>5xx, 408, 429, timeout, connection error</td><td>{@link Exporter.Attempt.Retry}, with the server's
 *       Retry-After (seconds or HTTP-date) when it gave one</td></tr>
 *   <tr><td>2xx that is not a readable transaction-response</td><td>{@link Exporter.Attempt.Retry}</td></tr>
 *   <tr><td>401 with OAuth2</td><td>new token, re-sent once at once; a second 401 is a rejection</td></tr>
 *   <tr><td>other 4xx (and 3xx); a bundle that fails validation</td><td>{@link Exporter.Attempt.Rejected}; the
 *       OperationOutcome's issue codes and locations in its error, the diagnostics only at debug level</td></tr>
 * </table>
 *
 * <p>Re-sending is safe: every entry of the bundle is a conditional create or a conditional update on its
 * identifier, so a transaction that the server committed but whose answer was lost stores nothing new when sent
 * again. The {@link Clock} stamps token expiry and reads HTTP-date Retry-After. Log lines and errors carry the
 * caller's correlation id (study/series) and TRIAGE codes; never bundle content, and the server's diagnostics,
 * which may quote patient data, only at debug level. Thread-safe: one instance per FHIR server per process;
 * {@link #close()} releases its connections.
 */
public final class FhirDelivery implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FhirDelivery.class);
    /** Most of a non-FHIR error answer quoted at debug level (an HTML error page says little past this). */
    private static final int MAX_BODY = 2000;

    private final FhirDeliveryOptions options;
    private final FhirContext context;
    private final Clock clock;
    private final BundleValidator validator;
    private final RequestConfig timeouts;
    private final CloseableHttpClient http;
    private final ApacheRestfulClientFactory clients;
    private final AccessTokens tokens;

    /**
     * A delivery that builds its own {@link BundleValidator} when {@code options} asks for validation (seconds of
     * start-up; pass a shared one with the other constructor instead).
     *
     * @param context the process's one R4 FhirContext
     */
    public FhirDelivery(FhirDeliveryOptions options, FhirContext context, Clock clock) {
        this(options, context, clock,
                options.validation() == FhirDeliveryOptions.Validation.VALIDATE ? new BundleValidator(context) : null);
    }

    /**
     * @param validator the process's validator; required when {@code options} asks for validation, else ignored
     */
    public FhirDelivery(FhirDeliveryOptions options, FhirContext context, Clock clock, BundleValidator validator) {
        this.options = Objects.requireNonNull(options, "options");
        this.context = Objects.requireNonNull(context, "context");
        if (context.getVersion().getVersion() != FhirVersionEnum.R4) {
            throw new IllegalArgumentException("FHIR delivery needs an R4 FhirContext, got "
                    + context.getVersion().getVersion());
        }
        this.clock = Objects.requireNonNull(clock, "clock");
        if (options.validation() == FhirDeliveryOptions.Validation.VALIDATE) {
            this.validator = Objects.requireNonNull(validator, "validator (options ask for validation)");
        } else {
            this.validator = null;
        }
        if (!(context.getRestfulClientFactory() instanceof ApacheRestfulClientFactory)) {
            throw new IllegalArgumentException("FHIR delivery sets its timeouts on Apache HttpClient requests; this"
                    + " FhirContext's client factory is " + context.getRestfulClientFactory().getClass().getName());
        }
        int connect = (int) options.connectTimeout().toMillis();
        this.timeouts = RequestConfig.custom()
                .setConnectTimeout(connect)
                .setConnectionRequestTimeout(connect)
                .setSocketTimeout((int) options.readTimeout().toMillis())
                .build();
        // HAPI sends every request through the HTTP client of the FhirContext's own factory, whatever factory made
        // the generic client. The context is shared by the process, so its settings are left alone: the timeouts
        // are set on each request instead (RequestTimeouts), and this factory only makes clients that never fetch
        // /metadata first (one POST per attempt, nothing else).
        this.clients = new ApacheRestfulClientFactory(context);
        this.clients.setServerValidationMode(ServerValidationModeEnum.NEVER);
        // The token endpoint gets a client of its own, with the same timeouts; system properties on (a hospital's
        // proxy and trust store), automatic retries off (a failed fetch fails the attempt, which is retried).
        this.http = HttpClients.custom()
                .useSystemProperties()
                .setDefaultRequestConfig(timeouts)
                .disableAutomaticRetries()
                .disableCookieManagement()
                .setUserAgent("ct-triage")
                .build();
        this.tokens = AccessTokens.of(options.authentication(), http, clock);
    }

    /** The options of this delivery. */
    public FhirDeliveryOptions options() {
        return options;
    }

    /** The retries and dead letters the delivery model applies to this server (the {@code fhir.*} keys). */
    public RetryPolicy retryPolicy() {
        return new RetryPolicy(options.maxAttempts(), options.initialBackoff(), options.backoffMultiplier(),
                options.maxBackoff());
    }

    /**
     * One attempt at {@code bundle} (a transaction): validated first when the options ask for it, then sent once
     * (twice when a 401 makes the OAuth2 token be fetched anew).
     *
     * @param correlationId what log lines and errors name the bundle by: study and series UIDs, never patient data
     */
    public Exporter.Attempt send(Bundle bundle, String correlationId) {
        Objects.requireNonNull(bundle, "bundle");
        if (bundle.getType() != Bundle.BundleType.TRANSACTION) {
            throw new IllegalArgumentException("only transaction bundles are delivered, got " + bundle.getType());
        }
        String corr = correlation(correlationId);
        if (validator != null) {
            List<SingleValidationMessage> errors = validator.errors(bundle);
            if (!errors.isEmpty()) {
                String where = errors.stream().map(SingleValidationMessage::getLocationString).distinct().limit(5)
                        .collect(Collectors.joining(", "));
                LOG.debug("[{}] validation errors: {}", corr, errors.stream().limit(20)
                        .map(m -> m.getLocationString() + ": " + m.getMessage()).collect(Collectors.joining("; ")));
                return new Exporter.Attempt.Rejected(ErrorCode.FHIR_BUNDLE_INVALID.code() + " bundle fails validation,"
                        + " not sent: " + errors.size() + " error(s), at " + where);
            }
        }
        Try<Bundle> t = execute(client -> client.transaction().withBundle(bundle).execute());
        if (t instanceof Ok<Bundle> ok) {
            String problem = problem(bundle, ok.value());
            if (problem != null) {
                return new Exporter.Attempt.Retry(ErrorCode.FHIR_MALFORMED_RESPONSE.code() + " HTTP " + ok.status() + " "
                        + problem, null);
            }
            return new Exporter.Attempt.Delivered("FHIR transaction to " + options.baseUrl() + ": "
                    + summary(ok.value()));
        }
        return failure(t, corr, "the bundle");
    }

    /**
     * What one REST interaction other than a transaction (a search, a read, an update) gave: its answer, or the attempt
     * it fails with, already classified as every answer of {@link #send} is (5xx, 408, 429, timeouts: retry; other 4xx:
     * rejected; 401 with OAuth2: a new token, once). The status is kept for callers that act on one themselves (412).
     */
    public sealed interface Call<T> permits Call.Answered, Call.Failed {
        /** The server answered 2xx with a readable body. */
        record Answered<T>(T value, int status) implements Call<T> {
        }

        /** The interaction failed; {@code attempt} is the delivery model's Retry or Rejected for it. */
        record Failed<T>(int status, Exporter.Attempt attempt) implements Call<T> {
        }
    }

    /**
     * One REST interaction, with this delivery's server, authentication and timeouts: {@code request} is given a generic
     * client (JSON, no /metadata fetch) and makes one call with it.
     *
     * @param what what the interaction is, for errors: "the ServiceRequest search"; never patient data
     * @param correlationId as for {@link #send}
     */
    public <T> Call<T> call(String what, String correlationId, java.util.function.Function<IGenericClient, T> request) {
        Try<T> t = execute(request);
        if (t instanceof Ok<T> ok) {
            return new Call.Answered<>(ok.value(), ok.status());
        }
        int status = t instanceof Refused<T> r ? r.status() : ((Failed<T>) t).status();
        return new Call.Failed<>(status, failure(t, correlation(correlationId), what));
    }

    private Exporter.Attempt failure(Try<?> t, String corr, String what) {
        if (t instanceof Refused<?> r) {
            LOG.debug("[{}] OperationOutcome: {}", corr, r.outcome());
            return new Exporter.Attempt.Rejected(r.code().code() + " the FHIR server refused " + what + ": HTTP "
                    + r.status() + (r.issues().isEmpty() ? "" : ", issues: " + r.issues()));
        }
        Failed<?> f = (Failed<?>) t;
        if (!f.retryable()) {
            return new Exporter.Attempt.Rejected(f.error());
        }
        return new Exporter.Attempt.Retry(f.error(), f.retryAfter());
    }

    @Override
    public void close() {
        try {
            http.close();
        } catch (IOException e) {
            LOG.debug("closing the HTTP client: {}", e.toString());
        }
    }

    private sealed interface Try<T> permits Ok, Refused, Failed {
    }

    private record Ok<T>(T value, int status) implements Try<T> {
    }

    private record Refused<T>(int status, ErrorCode code, String outcome, String issues) implements Try<T> {
    }

    private record Failed<T>(int status, ErrorCode code, String error, boolean retryable, Duration retryAfter)
            implements Try<T> {
    }

    /** One interaction: at most one request, or two when a 401 makes the OAuth2 token be fetched anew. */
    private <T> Try<T> execute(java.util.function.Function<IGenericClient, T> request) {
        String token;
        try {
            token = tokens.current();
        } catch (TokenUnavailableException e) {
            return new Failed<>(e.status(), ErrorCode.FHIR_AUTH_FAILED, e.getMessage(), e.retryable(), null);
        }
        IGenericClient client = clients.newGenericClient(options.baseUrl().toString());
        client.setEncoding(EncodingEnum.JSON);
        // JSON by Content-Type and Accept only: no ?_format=json on the transaction URL, which strict servers and
        // gateways may refuse or route differently.
        client.setFormatParamStyle(RequestFormatParamStyleEnum.NONE);
        FhirAuthInterceptor auth = new FhirAuthInterceptor(tokens, token);
        AttemptHooks answer = new AttemptHooks(timeouts);
        client.registerInterceptor(auth);
        client.registerInterceptor(answer);
        try {
            return new Ok<>(request.apply(client), answer.status);
        } catch (RuntimeException e) {
            if (answer.status == 0) {
                return new Failed<>(0, ErrorCode.FHIR_SERVER_UNAVAILABLE, ErrorCode.FHIR_SERVER_UNAVAILABLE.code()
                        + " no answer from " + options.baseUrl() + ": " + describe(e), true, null);
            }
            int status = answer.status;
            if (status >= 200 && status <= 299) {
                // A success status with a body we cannot read: a truncating proxy, a gateway's HTML page, a server
                // bug. We cannot tell whether the transaction was committed, so the only way to learn the outcome
                // is to send it again; the conditional creates make that harmless if it was. Giving up instead
                // would dead-letter results that are probably stored, and trusting it would lose those that are not.
                return new Failed<>(status, ErrorCode.FHIR_MALFORMED_RESPONSE, ErrorCode.FHIR_MALFORMED_RESPONSE.code()
                        + " HTTP " + status + " answer is not a readable FHIR Bundle: " + describe(e), true, null);
            }
            if (status == 401 && auth.refreshFailure() != null) {
                TokenUnavailableException t = auth.refreshFailure();
                return new Failed<>(t.status(), ErrorCode.FHIR_AUTH_FAILED, t.getMessage(), t.retryable(), null);
            }
            if (status >= 500 || status == 429 || status == 408) {
                return new Failed<>(status, ErrorCode.FHIR_SERVER_UNAVAILABLE, ErrorCode.FHIR_SERVER_UNAVAILABLE.code()
                        + " HTTP " + status + " from " + options.baseUrl(), true, retryAfter(answer.retryAfter));
            }
            ErrorCode code = status == 401 || status == 403 ? ErrorCode.FHIR_AUTH_FAILED : ErrorCode.FHIR_REJECTED;
            return new Refused<>(status, code, outcomeText(e), issues(e));
        }
    }

    /** Null when {@code response} answers {@code request} as a transaction must, else what is wrong with it. */
    private static String problem(Bundle request, Bundle response) {
        if (response == null) {
            return "answer has no Bundle";
        }
        if (response.getType() != Bundle.BundleType.TRANSACTIONRESPONSE) {
            return "answer is a Bundle of type " + response.getType() + ", not transaction-response";
        }
        if (response.getEntry().size() != request.getEntry().size()) {
            return "answer has " + response.getEntry().size() + " entries for " + request.getEntry().size() + " requests";
        }
        for (Bundle.BundleEntryComponent e : response.getEntry()) {
            String s = e.getResponse().getStatus();
            if (s == null || !s.startsWith("2")) {
                return "answer has an entry with status " + s + " in a transaction-response";
            }
        }
        return null;
    }

    /** "4 created, 3 updated or found": what the conditional creates and updates did. */
    private static String summary(Bundle response) {
        int created = 0;
        int existing = 0;
        for (Bundle.BundleEntryComponent e : response.getEntry()) {
            if (e.getResponse().getStatus().startsWith("201")) {
                created++;
            } else {
                existing++;
            }
        }
        return created + " created, " + existing + " updated or already present";
    }

    /** Every issue of the server's OperationOutcome (severity, code, location, diagnostics), or its non-FHIR body. */
    private static String outcomeText(RuntimeException e) {
        if (e instanceof BaseServerResponseException be) {
            IBaseOperationOutcome oo = be.getOperationOutcome();
            if (oo instanceof OperationOutcome o && !o.getIssue().isEmpty()) {
                List<String> issues = new ArrayList<>();
                for (OperationOutcome.OperationOutcomeIssueComponent i : o.getIssue()) {
                    String where = where(i);
                    issues.add(code(i) + (where.isEmpty() ? "" : " at " + where)
                            + (i.hasDiagnostics() ? ": " + i.getDiagnostics() : "")
                            + (i.getDetails().hasText() ? " (" + i.getDetails().getText() + ")" : ""));
                }
                return String.join("; ", issues);
            }
            String body = be.getResponseBody();
            if (body != null && !body.isBlank()) {
                return "no OperationOutcome; answer: " + (body.length() > MAX_BODY ? body.substring(0, MAX_BODY) + "…" : body);
            }
        }
        return "no OperationOutcome";
    }

    /** The issues' severity, code and location only: what may be logged without quoting patient data. */
    private static String issues(RuntimeException e) {
        if (e instanceof BaseServerResponseException be && be.getOperationOutcome() instanceof OperationOutcome o) {
            return o.getIssue().stream().map(i -> {
                String where = where(i);
                return code(i) + (where.isEmpty() ? "" : " at " + where);
            }).collect(Collectors.joining("; "));
        }
        return "";
    }

    private static String code(OperationOutcome.OperationOutcomeIssueComponent i) {
        return (i.getSeverity() == null ? "?" : i.getSeverity().toCode()) + "/" + (i.getCode() == null ? "?" : i.getCode().toCode());
    }

    private static String where(OperationOutcome.OperationOutcomeIssueComponent i) {
        List<StringType> w = i.hasExpression() ? i.getExpression() : i.getLocation();
        return w.stream().map(StringType::getValue).collect(Collectors.joining(", "));
    }

    /** Retry-After as delay-seconds or HTTP-date (RFC 9110 §10.2.3); null when absent or unreadable. */
    private Duration retryAfter(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim();
        if (v.matches("\\d{1,10}")) {
            return Duration.ofSeconds(Long.parseLong(v));
        }
        try {
            Duration d = Duration.between(clock.instant(), ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME));
            return d.isNegative() ? Duration.ZERO : d;
        } catch (DateTimeParseException e) {
            LOG.debug("unreadable Retry-After '{}', using the backoff", v);
            return null;
        }
    }

    /** The innermost cause, as class and message: "SocketTimeoutException: Read timed out". */
    static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    /** The correlation id as logged: one line, never empty. */
    private static String correlation(String id) {
        if (id == null || id.isBlank()) {
            return "no-correlation-id";
        }
        return id.replaceAll("[\\r\\n\\t]", " ").strip();
    }

    /**
     * Sets this delivery's timeouts on the request, and keeps the status and Retry-After of the final answer of one
     * attempt (after any re-send by {@link FhirAuthInterceptor}).
     */
    static final class AttemptHooks {
        private final RequestConfig timeouts;
        int status;
        String retryAfter;

        AttemptHooks(RequestConfig timeouts) {
            this.timeouts = timeouts;
        }

        @Hook(Pointcut.CLIENT_REQUEST)
        public void request(IHttpRequest request) {
            ((ApacheHttpRequest) request).getApacheRequest().setConfig(timeouts);
        }

        @Hook(value = Pointcut.CLIENT_RESPONSE, order = 1000)
        public void response(ClientResponseContext context) {
            IHttpResponse r = context.getHttpResponse();
            status = r.getStatus();
            List<String> h = r.getHeaders("Retry-After");
            retryAfter = h == null || h.isEmpty() ? null : h.get(0);
        }
    }
}
