package org.cttriage.fhir.delivery;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.cttriage.fhir.delivery.Fixtures.CTX;
import static org.cttriage.fhir.delivery.Fixtures.T0;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.node.Exporter.Attempt;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The ServiceRequest priority raise against a scripted FHIR server (WireMock): the exact search and update requests,
 * the version in If-Match, a 412 race that is read again and decided again, never lowering, and the faults that retry.
 */
class FhirServiceRequestExporterWireMockTest {
    @RegisterExtension
    static final WireMockExtension WM = WireMockExtension.newInstance()
            .options(wireMockConfig().bindAddress("127.0.0.1").dynamicPort())
            .build();

    FhirDelivery delivery;
    FhirServiceRequestExporter exporter;

    @BeforeEach
    void open() {
        delivery = new FhirDelivery(FhirDeliveryOptions.builder(URI.create("http://127.0.0.1:" + WM.getPort() + "/fhir"))
                .connectTimeout(Duration.ofSeconds(2)).readTimeout(Duration.ofSeconds(2))
                .validation(FhirDeliveryOptions.Validation.SKIP).build(), CTX, new Fixtures.ManualClock(T0));
        exporter = new FhirServiceRequestExporter(delivery, "", uid -> Optional.of(
                FhirServiceRequestExporterTest.entry(Priority.STAT)));
    }

    @AfterEach
    void close() {
        delivery.close();
    }

    static ResponseDefinitionBuilder fhir(int status, String body) {
        return aResponse().withStatus(status).withHeader("Content-Type", "application/fhir+json;charset=UTF-8")
                .withBody(body);
    }

    /** A searchset with the order at {@code version} and {@code priority} (null: none). */
    static String searchset(String version, ServiceRequest.ServiceRequestPriority priority) {
        ServiceRequest o = FhirServiceRequestExporterTest.order("ACC7", priority);
        o.setId("ServiceRequest/42");
        o.getMeta().setVersionId(version);
        Bundle b = new Bundle().setType(Bundle.BundleType.SEARCHSET);
        b.addEntry().setFullUrl("http://fhir.example/ServiceRequest/42").setResource(o).getSearch()
                .setMode(Bundle.SearchEntryMode.MATCH);
        return CTX.newJsonParser().encodeResourceToString(b);
    }

    static void search(ResponseDefinitionBuilder answer) {
        WM.stubFor(get(urlPathEqualTo("/fhir/ServiceRequest")).willReturn(answer));
    }

    static List<LoggedRequest> puts() {
        return WM.findAll(putRequestedFor(urlPathEqualTo("/fhir/ServiceRequest/42")));
    }

    @Test
    void searchesByTheAccessionIdentifierThenUpdatesWithIfMatch() throws Exception {
        search(fhir(200, searchset("3", ServiceRequest.ServiceRequestPriority.URGENT)));
        WM.stubFor(put(urlPathEqualTo("/fhir/ServiceRequest/42")).willReturn(fhir(200, "{\"resourceType\":"
                + "\"ServiceRequest\",\"id\":\"42\",\"meta\":{\"versionId\":\"4\"},\"status\":\"active\",\"intent\":\"order\","
                + "\"priority\":\"stat\",\"subject\":{\"display\":\"x\"}}").withHeader("Location",
                "http://127.0.0.1/fhir/ServiceRequest/42/_history/4")));

        Attempt a = exporter.attempt(FhirServiceRequestExporterTest.delivery("ACC7"));

        assertThat(a).isInstanceOfSatisfying(Attempt.Delivered.class,
                d -> assertThat(d.detail()).startsWith("ServiceRequest/42 priority raised from urgent to stat"));
        LoggedRequest s = WM.findAll(getRequestedFor(urlPathEqualTo("/fhir/ServiceRequest"))).get(0);
        assertThat(s.getUrl()).as("one parameter, the value percent-encoded").startsWith("/fhir/ServiceRequest?identifier")
                .endsWith("=http%3A%2F%2Fterminology.hl7.org%2FCodeSystem%2Fv2-0203%7CACSN%7CACC7").doesNotContain("&");
        assertThat(s.queryParameter("identifier:of-type").firstValue())
                .isEqualTo("http://terminology.hl7.org/CodeSystem/v2-0203|ACSN|ACC7");
        assertThat(puts()).singleElement().satisfies(p -> {
            assertThat(p.getHeaders().getHeader("If-Match").values()).containsExactly("W/\"3\"");
            assertThat(p.getHeader("Content-Type")).startsWith("application/fhir+json");
            ServiceRequest sent = CTX.newJsonParser().parseResource(ServiceRequest.class, p.getBodyAsString());
            assertThat(sent.getPriority()).isEqualTo(ServiceRequest.ServiceRequestPriority.STAT);
            assertThat(sent.getIdElement().getIdPart()).isEqualTo("42");
            assertThat(sent.getIdentifierFirstRep().getValue()).isEqualTo("ACC7");
            assertThat(sent.getCode().getText()).as("the rest of the order as read").isEqualTo("CT abdomen");
        });
    }

    @Test
    void aConfiguredAccessionSystemIsSearchedAsSystemAndValue() throws Exception {
        search(fhir(200, searchset("1", ServiceRequest.ServiceRequestPriority.STAT)));
        FhirServiceRequestExporter bySystem = new FhirServiceRequestExporter(delivery, "urn:oid:1.2.3",
                uid -> Optional.of(FhirServiceRequestExporterTest.entry(Priority.STAT)));

        assertThat(bySystem.attempt(FhirServiceRequestExporterTest.delivery("ACC7")))
                .isInstanceOfSatisfying(Attempt.Delivered.class, d -> assertThat(d.detail())
                        .isEqualTo("ServiceRequest/42 already stat"));
        assertThat(WM.findAll(getRequestedFor(urlPathEqualTo("/fhir/ServiceRequest"))).get(0)
                .queryParameter("identifier").firstValue()).isEqualTo("urn:oid:1.2.3|ACC7");
        assertThat(puts()).as("nothing to raise: no update").isEmpty();
    }

    @Test
    void neverLowersAnOrderThatIsAlreadyHigher() throws Exception {
        search(fhir(200, searchset("5", ServiceRequest.ServiceRequestPriority.STAT)));
        FhirServiceRequestExporter urgent = new FhirServiceRequestExporter(delivery, "",
                uid -> Optional.of(FhirServiceRequestExporterTest.entry(Priority.URGENT)));

        assertThat(urgent.attempt(FhirServiceRequestExporterTest.delivery("ACC7")))
                .isInstanceOfSatisfying(Attempt.Delivered.class, d -> assertThat(d.detail())
                        .isEqualTo("ServiceRequest/42 already stat, not lowered to urgent"));
        assertThat(puts()).isEmpty();
    }

    @Test
    void aRaceLost412IsReadAgainAndDecidedAgain() throws Exception {
        // First read: version 3 routine. Someone raises it to asap (version 4) before our update lands: 412.
        WM.stubFor(get(urlPathEqualTo("/fhir/ServiceRequest")).inScenario("race").whenScenarioStateIs(STARTED)
                .willReturn(fhir(200, searchset("3", ServiceRequest.ServiceRequestPriority.ROUTINE)))
                .willSetStateTo("changed"));
        WM.stubFor(get(urlPathEqualTo("/fhir/ServiceRequest")).inScenario("race").whenScenarioStateIs("changed")
                .willReturn(fhir(200, searchset("4", ServiceRequest.ServiceRequestPriority.ASAP))));
        WM.stubFor(put(urlPathEqualTo("/fhir/ServiceRequest/42")).withHeader("If-Match",
                com.github.tomakehurst.wiremock.client.WireMock.equalTo("W/\"3\"")).willReturn(fhir(412,
                "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"conflict\"}]}")));
        WM.stubFor(put(urlPathEqualTo("/fhir/ServiceRequest/42")).withHeader("If-Match",
                com.github.tomakehurst.wiremock.client.WireMock.equalTo("W/\"4\"")).willReturn(fhir(200,
                "{\"resourceType\":\"ServiceRequest\",\"id\":\"42\",\"meta\":{\"versionId\":\"5\"},\"status\":\"active\","
                        + "\"intent\":\"order\",\"priority\":\"stat\",\"subject\":{\"display\":\"x\"}}")));

        Attempt a = exporter.attempt(FhirServiceRequestExporterTest.delivery("ACC7"));

        assertThat(a).isInstanceOfSatisfying(Attempt.Delivered.class, d -> assertThat(d.detail())
                .startsWith("ServiceRequest/42 priority raised from asap to stat"));
        assertThat(puts()).extracting(p -> p.getHeader("If-Match")).containsExactly("W/\"3\"", "W/\"4\"");
    }

    @Test
    void anOrderThatKeepsChangingIsRetriedLater() throws Exception {
        search(fhir(200, searchset("3", ServiceRequest.ServiceRequestPriority.ROUTINE)));
        WM.stubFor(put(urlPathEqualTo("/fhir/ServiceRequest/42")).willReturn(fhir(412,
                "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"conflict\"}]}")));

        assertThat(exporter.attempt(FhirServiceRequestExporterTest.delivery("ACC7")))
                .isInstanceOfSatisfying(Attempt.Retry.class, r -> assertThat(r.error()).startsWith("TRIAGE-0501 the"
                        + " ServiceRequest changed between read and update 3 times"));
        assertThat(puts()).hasSize(FhirServiceRequestExporter.MAX_ROUNDS);
    }

    @Test
    void serverErrorsAndTimeoutsRetryAndClientErrorsReject() throws Exception {
        search(fhir(503, "down").withHeader("Retry-After", "7"));
        assertThat(exporter.attempt(FhirServiceRequestExporterTest.delivery("ACC7")))
                .isInstanceOfSatisfying(Attempt.Retry.class, r -> {
                    assertThat(r.error()).startsWith("TRIAGE-0501 HTTP 503");
                    assertThat(r.after()).isEqualTo(Duration.ofSeconds(7));
                });

        WM.resetAll();
        search(fhir(200, searchset("3", null)).withFixedDelay(4000));
        assertThat(exporter.attempt(FhirServiceRequestExporterTest.delivery("ACC7")))
                .isInstanceOfSatisfying(Attempt.Retry.class, r -> assertThat(r.error()).startsWith("TRIAGE-0501 no answer"));

        WM.resetAll();
        search(fhir(200, searchset("3", null)));
        WM.stubFor(put(urlPathEqualTo("/fhir/ServiceRequest/42")).willReturn(fhir(502, "bad gateway")));
        assertThat(exporter.attempt(FhirServiceRequestExporterTest.delivery("ACC7")))
                .isInstanceOf(Attempt.Retry.class);

        WM.resetAll();
        search(fhir(200, searchset("3", null)));
        WM.stubFor(put(urlPathEqualTo("/fhir/ServiceRequest/42")).willReturn(fhir(422,
                "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"invariant\","
                        + "\"diagnostics\":\"PHANTOM-7 is wrong\",\"expression\":[\"ServiceRequest.subject\"]}]}")));
        assertThat(exporter.attempt(FhirServiceRequestExporterTest.delivery("ACC7")))
                .isInstanceOfSatisfying(Attempt.Rejected.class, r -> assertThat(r.error())
                        .startsWith("TRIAGE-0502 the FHIR server refused the ServiceRequest update: HTTP 422")
                        .contains("error/invariant at ServiceRequest.subject").doesNotContain("PHANTOM-7"));
    }

    @Test
    void aFinishedOrderIsLeftAloneAndOneEnteredInErrorIsNoOrder() throws Exception {
        ServiceRequest done = FhirServiceRequestExporterTest.order("ACC7", ServiceRequest.ServiceRequestPriority.ROUTINE);
        done.setId("ServiceRequest/42");
        done.getMeta().setVersionId("2");
        done.setStatus(ServiceRequest.ServiceRequestStatus.COMPLETED);
        ServiceRequest error = done.copy();
        error.setId("ServiceRequest/43");
        error.setStatus(ServiceRequest.ServiceRequestStatus.ENTEREDINERROR);
        Bundle b = new Bundle().setType(Bundle.BundleType.SEARCHSET);
        b.addEntry().setResource(done).getSearch().setMode(Bundle.SearchEntryMode.MATCH);
        b.addEntry().setResource(error).getSearch().setMode(Bundle.SearchEntryMode.MATCH);
        search(fhir(200, CTX.newJsonParser().encodeResourceToString(b)));

        assertThat(exporter.attempt(FhirServiceRequestExporterTest.delivery("ACC7")))
                .isInstanceOfSatisfying(Attempt.Delivered.class, d -> assertThat(d.detail())
                        .isEqualTo("ServiceRequest/42 is completed: priority not changed"));
        assertThat(puts()).isEmpty();
    }

    @Test
    void anOrderWithoutVersionIdIsNotUpdatedBlindly() throws Exception {
        search(fhir(200, searchset(null, ServiceRequest.ServiceRequestPriority.ROUTINE)));
        assertThat(exporter.attempt(FhirServiceRequestExporterTest.delivery("ACC7")))
                .isInstanceOfSatisfying(Attempt.Rejected.class, r -> assertThat(r.error())
                        .startsWith("TRIAGE-0508 ServiceRequest/42 has no versionId"));
        assertThat(puts()).isEmpty();
    }
}
