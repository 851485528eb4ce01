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

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.cttriage.fhir.delivery.Fixtures.ManualClock;
import org.cttriage.fhir.delivery.Fixtures.RecordingSleeper;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** FhirDelivery against a scripted FHIR server (WireMock): every fault it must survive, and the exact requests. */
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
    final RecordingSleeper sleeper = new RecordingSleeper(clock);
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
        FhirDelivery d = new FhirDelivery(o, CTX, clock, sleeper);
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

    /** The two answers, in order, of a scenario on POST /fhir. */
    static void answers(ResponseDefinitionBuilder first, ResponseDefinitionBuilder then) {
        WM.stubFor(post("/fhir").inScenario("fhir").whenScenarioStateIs(STARTED).willReturn(first)
                .willSetStateTo("second"));
        WM.stubFor(post("/fhir").inScenario("fhir").whenScenarioStateIs("second").willReturn(then));
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
    void serverErrorThenSuccess() throws Exception {
        answers(fhir(500, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"exception\"}]}"),
                fhir(200, OK));
        DeliveryResult r = delivery(options().build()).deliver(Fixtures.bundle(), CORRELATION);

        assertThat(r).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(r.attempts()).isEqualTo(2);
        assertThat(((DeliveryResult.Delivered) r).response().getEntry()).hasSize(7);
        assertThat(sleeper.waits).containsExactly(Duration.ofSeconds(2));
        assertThat(WM.getAllServeEvents()).hasSize(2);
        assertBundleRequests(null, null);
        assertThat(dir.resolve("dead-letters")).doesNotExist();
    }

    @Test
    void readTimeoutThenSuccess() throws Exception {
        answers(fhir(200, OK).withFixedDelay(1500), fhir(200, OK));
        DeliveryResult r = delivery(options().readTimeout(Duration.ofMillis(200)).build())
                .deliver(Fixtures.bundle(), CORRELATION);

        assertThat(r).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(r.attempts()).isEqualTo(2);
        assertThat(sleeper.waits).containsExactly(Duration.ofSeconds(2));
        assertBundleRequests(null, null);
    }

    @Test
    void tooManyRequestsWaitsRetryAfterSeconds() throws Exception {
        answers(aResponse().withStatus(429).withHeader("Retry-After", "7"), fhir(200, OK));
        DeliveryResult r = delivery(options().build()).deliver(Fixtures.bundle(), CORRELATION);

        assertThat(r).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(sleeper.waits).as("the server's Retry-After, not the 2 s backoff").containsExactly(Duration.ofSeconds(7));
        assertBundleRequests(null, null);
    }

    @Test
    void retryAfterAsHttpDateAndCappedByMaxBackoff() throws Exception {
        String in12s = DateTimeFormatter.RFC_1123_DATE_TIME.format(T0.plusSeconds(12).atZone(ZoneOffset.UTC));
        answers(aResponse().withStatus(503).withHeader("Retry-After", in12s), fhir(200, OK));
        assertThat(delivery(options().build()).deliver(Fixtures.bundle(), CORRELATION))
                .isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(sleeper.waits).containsExactly(Duration.ofSeconds(12));

        WM.resetAll();
        sleeper.waits.clear();
        answers(aResponse().withStatus(429).withHeader("Retry-After", "86400"), fhir(200, OK));
        assertThat(delivery(options().maxBackoff(Duration.ofSeconds(30)).build()).deliver(Fixtures.bundle(), CORRELATION))
                .isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(sleeper.waits).containsExactly(Duration.ofSeconds(30));
    }

    @Test
    void unauthorizedRefreshesTheOAuth2TokenOnceAndResends() throws Exception {
        WM.stubFor(post("/oauth/token").inScenario("tokens").whenScenarioStateIs(STARTED).willReturn(token("token-1"))
                .willSetStateTo("second"));
        WM.stubFor(post("/oauth/token").inScenario("tokens").whenScenarioStateIs("second").willReturn(token("token-2")));
        WM.stubFor(post("/fhir").withHeader("Authorization", equalTo("Bearer token-1"))
                .willReturn(aResponse().withStatus(401).withHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"")));
        WM.stubFor(post("/fhir").withHeader("Authorization", equalTo("Bearer token-2")).willReturn(fhir(200, OK)));

        DeliveryResult r = delivery(oauth2()).deliver(Fixtures.bundle(), CORRELATION);

        assertThat(r).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(r.attempts()).as("the re-send after the refresh is part of the first attempt").isEqualTo(1);
        assertThat(sleeper.waits).isEmpty();
        assertTokenRequests(2);
        assertBundleRequests("Bearer token-1", "Bearer token-2");
        assertThat(WM.getAllServeEvents()).hasSize(4);
    }

    @Test
    void oauth2TokenIsCachedUntilShortlyBeforeItExpires() throws Exception {
        WM.stubFor(post("/oauth/token").willReturn(token("token-1")));
        WM.stubFor(post("/fhir").willReturn(fhir(200, OK)));
        FhirDelivery d = delivery(oauth2());

        d.deliver(Fixtures.bundle(), CORRELATION);
        clock.advance(Duration.ofSeconds(3600 - 31));
        d.deliver(Fixtures.bundle(), CORRELATION);
        assertTokenRequests(1);

        clock.advance(Duration.ofSeconds(1)); // 30 s before expires_in: refreshed
        d.deliver(Fixtures.bundle(), CORRELATION);
        assertTokenRequests(2);
        assertBundleRequests("Bearer token-1", "Bearer token-1", "Bearer token-1");
    }

    @Test
    void secondUnauthorizedAfterRefreshIsARejection() throws Exception {
        WM.stubFor(post("/oauth/token").willReturn(token("token-1")));
        WM.stubFor(post("/fhir").willReturn(aResponse().withStatus(401)));

        DeliveryResult r = delivery(oauth2()).deliver(Fixtures.bundle(), CORRELATION);

        assertThat(r).isInstanceOfSatisfying(DeliveryResult.Rejected.class, x -> assertThat(x.status()).isEqualTo(401));
        assertThat(sleeper.waits).isEmpty();
        assertTokenRequests(2);
        assertBundleRequests("Bearer token-1", "Bearer token-1");
        DeadLetter dl = delivery(oauth2()).deadLetters().list().get(0);
        assertThat(dl.lastError()).startsWith("TRIAGE-0503 HTTP 401");
    }

    @Test
    void tokenEndpointRefusingTheClientIsNotRetried() throws Exception {
        WM.stubFor(post("/oauth/token").willReturn(aResponse().withStatus(401).withHeader("Content-Type", "application/json")
                .withBody("{\"error\":\"invalid_client\",\"error_description\":\"unknown client\"}")));

        DeliveryResult r = delivery(oauth2()).deliver(Fixtures.bundle(), CORRELATION);

        assertThat(r).isInstanceOfSatisfying(DeliveryResult.DeadLettered.class, x -> {
            assertThat(x.reason()).startsWith("TRIAGE-0503").contains("error=invalid_client (unknown client)")
                    .doesNotContain(CLIENT_SECRET);
            assertThat(x.attempts()).isEqualTo(1);
        });
        assertTokenRequests(1);
        assertBundleRequests();
        assertThat(sleeper.waits).isEmpty();
    }

    @Test
    void staticBearerTokenIsSentAndA401IsFinal() throws Exception {
        WM.stubFor(post("/fhir").willReturn(aResponse().withStatus(401)));
        DeliveryResult r = delivery(options().authentication(FhirAuthentication.bearer("static-abc")).build())
                .deliver(Fixtures.bundle(), CORRELATION);

        assertThat(r).isInstanceOf(DeliveryResult.Rejected.class);
        assertBundleRequests("Bearer static-abc");
        assertThat(sleeper.waits).isEmpty();
    }

    @Test
    void malformedSuccessAnswerIsRetried() throws Exception {
        answers(fhir(200, OK.substring(0, OK.length() / 2)), fhir(200, OK));
        DeliveryResult r = delivery(options().build()).deliver(Fixtures.bundle(), CORRELATION);

        assertThat(r).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(r.attempts()).isEqualTo(2);
        assertThat(sleeper.waits).containsExactly(Duration.ofSeconds(2));
        assertBundleRequests(null, null);
    }

    @Test
    void successAnswerThatIsNotATransactionResponseIsRetriedThenDeadLettered() throws Exception {
        WM.stubFor(post("/fhir").willReturn(aResponse().withStatus(200).withHeader("Content-Type", "text/html")
                .withBody("<html><body>Proxy login</body></html>")));
        DeliveryResult r = delivery(options().maxAttempts(2).build()).deliver(Fixtures.bundle(), CORRELATION);

        assertThat(r).isInstanceOfSatisfying(DeliveryResult.DeadLettered.class,
                x -> assertThat(x.reason()).startsWith("TRIAGE-0505 HTTP 200"));
        assertBundleRequests(null, null);
    }

    @Test
    void badRequestWithOperationOutcomeIsNotRetriedAndIsDeadLettered() throws Exception {
        OperationOutcome oo = new OperationOutcome();
        oo.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR).setCode(OperationOutcome.IssueType.CODEINVALID)
                .setDiagnostics("Unknown code for patient PHANTOM-7").addExpression("Bundle.entry[1].resource.code");
        WM.stubFor(post("/fhir").willReturn(fhir(400, CTX.newJsonParser().encodeResourceToString(oo))));

        PrintStream err = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        DeliveryResult r;
        try {
            System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
            r = delivery(options().build()).deliver(Fixtures.bundle(), CORRELATION);
        } finally {
            System.setErr(err);
        }

        assertThat(r).isInstanceOfSatisfying(DeliveryResult.Rejected.class, x -> {
            assertThat(x.status()).isEqualTo(400);
            assertThat(x.attempts()).isEqualTo(1);
            assertThat(x.outcome()).isEqualTo("error/code-invalid at Bundle.entry[1].resource.code: Unknown code for"
                    + " patient PHANTOM-7");
        });
        assertThat(sleeper.waits).isEmpty();
        assertBundleRequests((String) null);
        String id = ((DeliveryResult.Rejected) r).deadLetterId();
        DeadLetter dl = delivery(options().build()).deadLetters().read(id).orElseThrow();
        assertThat(dl.lastStatus()).isEqualTo(400);
        assertThat(dl.lastError()).startsWith("TRIAGE-0502 HTTP 400: error/code-invalid");
        assertThat(log.toString(StandardCharsets.UTF_8))
                .contains("TRIAGE-0502 [" + CORRELATION + "]")
                .contains("error/code-invalid at Bundle.entry[1].resource.code")
                .contains("TRIAGE-0506 [" + CORRELATION + "] bundle dead-lettered as " + id)
                .as("the server's diagnostics may quote patient data: kept in the dead letter, not logged")
                .doesNotContain("PHANTOM-7");
        // What the node logs when it gives up (FhirResultDeliverer) is the summary; before, the record's
        // default toString put the OperationOutcome's diagnostics, patient data included, into an ERROR line.
        assertThat(r.logSummary()).startsWith("TRIAGE-0502 rejected with HTTP 400 after 1 attempt(s); dead letter " + id)
                .doesNotContain("PHANTOM-7");
        assertThat(r.toString()).doesNotContain("PHANTOM-7");
    }

    @Test
    void exhaustedRetriesLeaveTheBundleOnDiskThenRetryDeliversAndDeletesIt() throws Exception {
        WM.stubFor(post("/fhir").willReturn(aResponse().withStatus(503)));
        FhirDelivery d = delivery(options().maxAttempts(3).build());

        DeliveryResult r = d.deliver(Fixtures.bundle(), CORRELATION);

        assertThat(r).isInstanceOfSatisfying(DeliveryResult.DeadLettered.class, x -> {
            assertThat(x.attempts()).isEqualTo(3);
            assertThat(x.reason()).startsWith("TRIAGE-0501 HTTP 503");
        });
        assertThat(sleeper.waits).containsExactly(Duration.ofSeconds(2), Duration.ofSeconds(4));
        assertBundleRequests(null, null, null);

        Path deadLetters = dir.resolve("dead-letters");
        String id = ((DeliveryResult.DeadLettered) r).deadLetterId();
        Path file = deadLetters.resolve(id + ".json");
        try (Stream<Path> files = Files.list(deadLetters)) {
            assertThat(files).containsExactly(file);
        }
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(deadLetters)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        assertThat(json.get("correlationId").asText()).isEqualTo(CORRELATION);
        assertThat(json.get("firstAttempt").asText()).isEqualTo(T0.toString());
        assertThat(json.get("lastAttempt").asText()).isEqualTo(T0.plusSeconds(6).toString());
        assertThat(json.get("attempts").asInt()).isEqualTo(3);
        assertThat(json.get("lastStatus").asInt()).isEqualTo(503);
        assertThat(json.get("lastError").asText()).startsWith("TRIAGE-0501 HTTP 503");
        assertThat(new EqualToJsonPattern(BUNDLE, false, false).match(json.get("bundle").toString()).isExactMatch()).isTrue();
        assertThat(Fixtures.json(d.deadLetters().bundle(id))).isEqualTo(BUNDLE);

        // Dead-lettering the same bundle again updates its entry.
        assertThat(d.deliver(Fixtures.bundle(), CORRELATION)).isInstanceOf(DeliveryResult.DeadLettered.class);
        assertThat(d.deadLetters().list()).singleElement().satisfies(x -> {
            assertThat(x.id()).isEqualTo(id);
            assertThat(x.attempts()).isEqualTo(6);
            assertThat(x.firstAttempt()).isEqualTo(T0);
        });

        WM.resetAll();
        WM.stubFor(post("/fhir").willReturn(fhir(200, OK)));
        assertThat(d.deadLetters().retry(id, d)).isInstanceOf(DeliveryResult.Delivered.class);
        assertThat(d.deadLetters().list()).isEmpty();
        try (Stream<Path> files = Files.list(deadLetters)) {
            assertThat(files).as("no entry and no .part left behind").isEmpty();
        }
        assertBundleRequests((String) null);
    }

    @Test
    void connectionRefusedIsRetriedThenDeadLettered() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        FhirDeliveryOptions refused = FhirDeliveryOptions.builder(URI.create("http://127.0.0.1:" + closed + "/fhir"))
                .validation(FhirDeliveryOptions.Validation.SKIP).maxAttempts(2).deadLetterDir(dir.resolve("refused"))
                .build();
        DeliveryResult x = delivery(refused).deliver(Fixtures.bundle(), CORRELATION);
        assertThat(x).isInstanceOfSatisfying(DeliveryResult.DeadLettered.class, d -> {
            assertThat(d.attempts()).isEqualTo(2);
            assertThat(d.reason()).startsWith("TRIAGE-0501 no answer from http://127.0.0.1:" + closed + "/fhir");
        });
        assertThat(new FhirDeadLetterStore(dir.resolve("refused"), CTX).list()).hasSize(1);
    }

    @Test
    void interruptedWhileWaitingDeadLettersAtOnce() throws Exception {
        WM.stubFor(post("/fhir").willReturn(aResponse().withStatus(502)));
        FhirDelivery d = new FhirDelivery(options().build(), CTX, clock, t -> {
            throw new InterruptedException();
        });
        opened.add(d);
        try {
            DeliveryResult r = d.deliver(Fixtures.bundle(), CORRELATION);
            assertThat(r).isInstanceOfSatisfying(DeliveryResult.DeadLettered.class,
                    x -> assertThat(x.reason()).contains("interrupted"));
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
        assertBundleRequests((String) null);
    }

    @Test
    void invalidBundleIsDeadLetteredUnsent() throws Exception {
        Bundle b = Fixtures.bundle();
        b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource).filter(DiagnosticReport.class::isInstance)
                .map(DiagnosticReport.class::cast).findFirst().orElseThrow().setStatus(null);
        FhirDelivery d = new FhirDelivery(options().validation(FhirDeliveryOptions.Validation.VALIDATE).build(), CTX,
                clock, sleeper, Fixtures.validator());
        opened.add(d);

        DeliveryResult r = d.deliver(b, CORRELATION);

        assertThat(r).isInstanceOfSatisfying(DeliveryResult.DeadLettered.class, x -> {
            assertThat(x.attempts()).isZero();
            assertThat(x.reason()).startsWith("TRIAGE-0504").contains("DiagnosticReport.status");
        });
        assertThat(WM.getAllServeEvents()).isEmpty();
    }

    @Test
    void backoffGrowsByTheMultiplierUpToTheMaximum() throws Exception {
        WM.stubFor(post("/fhir").willReturn(aResponse().withStatus(500)));
        delivery(options().maxAttempts(5).initialBackoff(Duration.ofSeconds(1)).backoffMultiplier(3)
                .maxBackoff(Duration.ofSeconds(5)).build()).deliver(Fixtures.bundle(), CORRELATION);
        assertThat(sleeper.waits).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(5),
                Duration.ofSeconds(5));
        assertThat(requests("/fhir")).hasSize(5);
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
