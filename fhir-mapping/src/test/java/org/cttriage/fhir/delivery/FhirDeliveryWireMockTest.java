package org.cttriage.fhir.delivery;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.cttriage.fhir.delivery.Fixtures.CORRELATION;
import static org.cttriage.fhir.delivery.Fixtures.CTX;
import static org.cttriage.fhir.delivery.Fixtures.T0;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.RequestMethod;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.matching.EqualToJsonPattern;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.cttriage.core.node.Exporter.Attempt;
import org.cttriage.fhir.delivery.Fixtures.ManualClock;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * FhirDelivery against a scripted FHIR server (WireMock): what one attempt makes of every answer and fault (the
 * {@link Attempt} the delivery model acts on), and the exact requests. Retrying and dead-lettering are the delivery
 * model's (core's DeliveryScheduler tests); here one answer gives one attempt's outcome.
 */
class FhirDeliveryWireMockTest {
    @RegisterExtension
    static final WireMockExtension WM = WireMockExtension.newInstance()
            .options(wireMockConfig().bindAddress("127.0.0.1").dynamicPort())
            .build();

    static final String BUNDLE = Fixtures.json(Fixtures.bundle());
    static final String OK = Fixtures.json(Fixtures.transactionResponse("201 Created"));
    static final String CLIENT_ID = "ct-triage";
    static final String CLIENT_SECRET = "s3cret:&=";
    static final String SCOPE = "system/DiagnosticReport.write system/Observation.write";

    @TempDir
    Path dir;

    final ManualClock clock = new ManualClock(T0);
    final List<FhirDelivery> opened = new ArrayList<>();

    @AfterEach
    void close() {
        opened.forEach(FhirDelivery::close);
    }

    /** 127.0.0.1 rather than WireMock's "localhost", which may resolve to ::1 first. */
    static String base() {
        return "http://127.0.0.1:" + WM.getPort();
    }

    FhirDeliveryOptions.Builder options() {
        return FhirDeliveryOptions.builder(URI.create(base() + "/fhir"))
                .connectTimeout(Duration.ofSeconds(2))
                .readTimeout(Duration.ofSeconds(5))
                .validation(FhirDeliveryOptions.Validation.SKIP)
                .deadLetterDir(dir.resolve("dead-letters"));
    }

    FhirDelivery delivery(FhirDeliveryOptions o) {
        FhirDelivery d = new FhirDelivery(o, CTX, clock);
        opened.add(d);
        return d;
    }

    FhirDeliveryOptions oauth2() {
        return options().authentication(FhirAuthentication.clientCredentials(URI.create(base() + "/oauth/token"),
                CLIENT_ID, CLIENT_SECRET, SCOPE)).build();
    }

    static ResponseDefinitionBuilder fhir(int status, String body) {
        return aResponse().withStatus(status).withHeader("Content-Type", "application/fhir+json;charset=UTF-8")
                .withBody(body);
    }

    static ResponseDefinitionBuilder token(String accessToken) {
        return okJson("{\"access_token\":\"" + accessToken + "\",\"token_type\":\"Bearer\",\"expires_in\":3600}");
    }

    /** The one answer of POST /fhir. */
    static void answer(ResponseDefinitionBuilder answer) {
        WM.stubFor(post("/fhir").willReturn(answer));
    }

    Attempt send() {
        return delivery(options().build()).send(Fixtures.bundle(), CORRELATION);
    }

    /** {@code a} is a Retry whose error starts with {@code prefix} and whose wait is {@code after}. */
    static void assertRetry(Attempt a, String prefix, Duration after) {
        assertThat(a).isInstanceOfSatisfying(Attempt.Retry.class, r -> {
            assertThat(r.error()).startsWith(prefix);
            assertThat(r.after()).isEqualTo(after);
        });
    }

    static List<LoggedRequest> requests(String path) {
        return WM.findAll(anyRequestedFor(urlEqualTo(path)));
    }

    /**
     * Every request WireMock saw went to POST /fhir, carried the transaction bundle as FHIR JSON and the given
     * Authorization headers in order (null: none).
     */
    static void assertBundleRequests(String... authorization) {
        List<LoggedRequest> fhir = requests("/fhir");
        assertThat(fhir).hasSize(authorization.length);
        for (int i = 0; i < authorization.length; i++) {
            LoggedRequest r = fhir.get(i);
            assertThat(r.getMethod()).isEqualTo(RequestMethod.POST);
            assertThat(r.getHeader("Content-Type")).startsWith("application/fhir+json");
            assertThat(new EqualToJsonPattern(BUNDLE, false, false).match(r.getBodyAsString()).isExactMatch())
                    .as("request %d body is the transaction bundle", i).isTrue();
            if (authorization[i] == null) {
                assertThat(r.containsHeader("Authorization")).as("request %d has no Authorization", i).isFalse();
            } else {
                assertThat(r.getHeader("Authorization")).isEqualTo(authorization[i]);
            }
        }
    }

    @Test
    void transactionResponseIsDeliveredFromOnePostOfTheBundleToTheBase() {
        answer(fhir(200, OK));

        Attempt a = send();

        assertThat(a).isInstanceOfSatisfying(Attempt.Delivered.class, d -> assertThat(d.detail())
                .isEqualTo("FHIR transaction to " + base() + "/fhir: 7 created, 0 updated or already present"));
        assertThat(WM.getAllServeEvents()).as("no /metadata, nothing but the transaction").hasSize(1);
        assertBundleRequests((String) null);
    }

    @ParameterizedTest
    @ValueSource(ints = {500, 502, 503, 504, 408})
    void serverErrorsAndRequestTimeoutAreRetriedWithThePolicysBackoff(int status) {
        answer(fhir(status, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\","
                + "\"code\":\"exception\"}]}"));

        assertRetry(send(), "TRIAGE-0501 HTTP " + status + " from " + base() + "/fhir", null);
        assertBundleRequests((String) null);
    }

    @Test
    void readTimeoutIsRetried() {
        answer(fhir(200, OK).withFixedDelay(1500));

        Attempt a = delivery(options().readTimeout(Duration.ofMillis(200)).build()).send(Fixtures.bundle(), CORRELATION);

        assertRetry(a, "TRIAGE-0501 no answer from " + base() + "/fhir", null);
        assertThat(((Attempt.Retry) a).error()).contains("SocketTimeoutException");
        assertBundleRequests((String) null);
    }

    @Test
    void tooManyRequestsCarriesRetryAfterSeconds() {
        answer(aResponse().withStatus(429).withHeader("Retry-After", "7"));

        assertRetry(send(), "TRIAGE-0501 HTTP 429", Duration.ofSeconds(7));
    }

    @Test
    void retryAfterAsHttpDateIsTheWaitUntilThatTime() {
        String in12s = DateTimeFormatter.RFC_1123_DATE_TIME.format(T0.plusSeconds(12).atZone(ZoneOffset.UTC));
        answer(aResponse().withStatus(503).withHeader("Retry-After", in12s));
        assertRetry(send(), "TRIAGE-0501 HTTP 503", Duration.ofSeconds(12));

        String past = DateTimeFormatter.RFC_1123_DATE_TIME.format(T0.minusSeconds(60).atZone(ZoneOffset.UTC));
        answer(aResponse().withStatus(503).withHeader("Retry-After", past));
        assertRetry(send(), "TRIAGE-0501 HTTP 503", Duration.ZERO);

        answer(aResponse().withStatus(503).withHeader("Retry-After", "soon"));
        assertRetry(send(), "TRIAGE-0501 HTTP 503", null);
    }

    @Test
    void unauthorizedRefreshesTheOAuth2TokenAndResendsWithinTheAttempt() {
        WM.stubFor(post("/oauth/token").inScenario("tokens").whenScenarioStateIs(STARTED).willReturn(token("token-1"))
                .willSetStateTo("second"));
        WM.stubFor(post("/oauth/token").inScenario("tokens").whenScenarioStateIs("second").willReturn(token("token-2")));
        WM.stubFor(post("/fhir").withHeader("Authorization", equalTo("Bearer token-1"))
                .willReturn(aResponse().withStatus(401).withHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"")));
        WM.stubFor(post("/fhir").withHeader("Authorization", equalTo("Bearer token-2")).willReturn(fhir(200, OK)));

        Attempt a = delivery(oauth2()).send(Fixtures.bundle(), CORRELATION);

        assertThat(a).isInstanceOf(Attempt.Delivered.class);
        assertTokenRequests(2);
        assertBundleRequests("Bearer token-1", "Bearer token-2");
        assertThat(WM.getAllServeEvents()).hasSize(4);
    }

    @Test
    void oauth2TokenIsCachedUntilShortlyBeforeItExpires() {
        WM.stubFor(post("/oauth/token").willReturn(token("token-1")));
        answer(fhir(200, OK));
        FhirDelivery d = delivery(oauth2());

        assertThat(d.send(Fixtures.bundle(), CORRELATION)).isInstanceOf(Attempt.Delivered.class);
        clock.advance(Duration.ofSeconds(3600 - 31));
        d.send(Fixtures.bundle(), CORRELATION);
        assertTokenRequests(1);

        clock.advance(Duration.ofSeconds(1)); // 30 s before expires_in: refreshed
        d.send(Fixtures.bundle(), CORRELATION);
        assertTokenRequests(2);
        assertBundleRequests("Bearer token-1", "Bearer token-1", "Bearer token-1");
    }

    @Test
    void secondUnauthorizedAfterRefreshIsARejection() {
        WM.stubFor(post("/oauth/token").willReturn(token("token-1")));
        answer(aResponse().withStatus(401));

        Attempt a = delivery(oauth2()).send(Fixtures.bundle(), CORRELATION);

        assertThat(a).isInstanceOfSatisfying(Attempt.Rejected.class,
                x -> assertThat(x.error()).startsWith("TRIAGE-0503").contains("HTTP 401"));
        assertTokenRequests(2);
        assertBundleRequests("Bearer token-1", "Bearer token-1");
    }

    @Test
    void tokenEndpointRefusingTheClientIsARejectionAndNothingIsSent() {
        WM.stubFor(post("/oauth/token").willReturn(aResponse().withStatus(401).withHeader("Content-Type", "application/json")
                .withBody("{\"error\":\"invalid_client\",\"error_description\":\"unknown client\"}")));

        Attempt a = delivery(oauth2()).send(Fixtures.bundle(), CORRELATION);

        assertThat(a).isInstanceOfSatisfying(Attempt.Rejected.class, x -> assertThat(x.error())
                .startsWith("TRIAGE-0503").contains("error=invalid_client (unknown client)").doesNotContain(CLIENT_SECRET));
        assertTokenRequests(1);
        assertBundleRequests();
    }

    @Test
    void tokenEndpointFailingIsRetriedAndNothingIsSent() {
        WM.stubFor(post("/oauth/token").willReturn(aResponse().withStatus(503)));

        assertRetry(delivery(oauth2()).send(Fixtures.bundle(), CORRELATION), "TRIAGE-0503 token endpoint", null);
        assertTokenRequests(1);
        assertBundleRequests();
    }

    @Test
    void staticBearerTokenIsSentAndA401IsARejection() {
        answer(aResponse().withStatus(401));
        Attempt a = delivery(options().authentication(FhirAuthentication.bearer("static-abc")).build())
                .send(Fixtures.bundle(), CORRELATION);

        assertThat(a).isInstanceOfSatisfying(Attempt.Rejected.class,
                x -> assertThat(x.error()).startsWith("TRIAGE-0503").contains("HTTP 401"));
        assertBundleRequests("Bearer static-abc");
    }

    @Test
    void malformedSuccessAnswerIsRetried() {
        answer(fhir(200, OK.substring(0, OK.length() / 2)));

        assertRetry(send(), "TRIAGE-0505 HTTP 200", null);
        assertBundleRequests((String) null);
    }

    @Test
    void successAnswerThatIsNotATransactionResponseIsRetried() {
        answer(aResponse().withStatus(200).withHeader("Content-Type", "text/html")
                .withBody("<html><body>Proxy login</body></html>"));
        assertRetry(send(), "TRIAGE-0505 HTTP 200", null);

        answer(fhir(200, Fixtures.json(new Bundle().setType(Bundle.BundleType.SEARCHSET))));
        assertRetry(send(), "TRIAGE-0505 HTTP 200 answer is a Bundle of type SEARCHSET", null);
    }

    @Test
    void badRequestIsARejectionNamingTheIssuesButNotTheirDiagnostics() {
        OperationOutcome oo = new OperationOutcome();
        oo.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR).setCode(OperationOutcome.IssueType.CODEINVALID)
                .setDiagnostics("Unknown code for patient PHANTOM-7").addExpression("Bundle.entry[1].resource.code");
        answer(fhir(400, CTX.newJsonParser().encodeResourceToString(oo)));

        PrintStream err = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Attempt a;
        try {
            System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
            a = send();
        } finally {
            System.setErr(err);
        }

        assertThat(a).isInstanceOfSatisfying(Attempt.Rejected.class, x -> assertThat(x.error())
                .as("the server's diagnostics may quote patient data: debug level only")
                .isEqualTo("TRIAGE-0502 the FHIR server refused the bundle: HTTP 400, issues: error/code-invalid at"
                        + " Bundle.entry[1].resource.code"));
        assertThat(a.toString()).doesNotContain("PHANTOM-7");
        assertThat(log.toString(StandardCharsets.UTF_8)).doesNotContain("PHANTOM-7");
        assertBundleRequests((String) null);
    }

    @Test
    void connectionRefusedIsRetried() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        FhirDeliveryOptions refused = FhirDeliveryOptions.builder(URI.create("http://127.0.0.1:" + closed + "/fhir"))
                .validation(FhirDeliveryOptions.Validation.SKIP).build();

        assertRetry(delivery(refused).send(Fixtures.bundle(), CORRELATION),
                "TRIAGE-0501 no answer from http://127.0.0.1:" + closed + "/fhir", null);
    }

    @Test
    void invalidBundleIsRejectedUnsent() {
        Bundle b = Fixtures.bundle();
        b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource).filter(DiagnosticReport.class::isInstance)
                .map(DiagnosticReport.class::cast).findFirst().orElseThrow().setStatus(null);
        FhirDelivery d = new FhirDelivery(options().validation(FhirDeliveryOptions.Validation.VALIDATE).build(), CTX,
                clock, Fixtures.validator());
        opened.add(d);

        Attempt a = d.send(b, CORRELATION);

        assertThat(a).isInstanceOfSatisfying(Attempt.Rejected.class,
                x -> assertThat(x.error()).startsWith("TRIAGE-0504 bundle fails validation, not sent: 1 error(s), at")
                        .as("where, not the validator's message").contains("Bundle.entry[5].resource")
                        .contains("DiagnosticReport"));
        assertThat(WM.getAllServeEvents()).isEmpty();
    }

    static void assertTokenRequests(int n) {
        List<LoggedRequest> token = requests("/oauth/token");
        assertThat(token).hasSize(n);
        String basic = "Basic " + Base64.getEncoder().encodeToString(
                (CLIENT_ID + ":" + "s3cret%3A%26%3D").getBytes(StandardCharsets.UTF_8));
        for (LoggedRequest r : token) {
            assertThat(r.getMethod()).isEqualTo(RequestMethod.POST);
            assertThat(r.getHeader("Authorization")).isEqualTo(basic);
            assertThat(r.getHeader("Content-Type")).startsWith("application/x-www-form-urlencoded");
            assertThat(r.getBodyAsString()).isEqualTo("grant_type=client_credentials&scope="
                    + "system%2FDiagnosticReport.write+system%2FObservation.write");
        }
        assertThat(WM.findAll(anyRequestedFor(anyUrl()))).hasSizeGreaterThanOrEqualTo(n);
    }
}
