package org.cttriage.fhir.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.cttriage.fhir.delivery.Fixtures.CTX;
import static org.cttriage.fhir.delivery.Fixtures.T0;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.Exporter;
import org.cttriage.core.node.SeriesKey;
import org.cttriage.core.node.WorklistRepository;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The study's priority raised on its order in a real (in-process HAPI) FHIR server: a routine ServiceRequest found by
 * its accession identifier becomes stat, a later routine result does not lower it, and the order is otherwise left
 * as the server had it.
 */
class FhirServiceRequestExporterTest {
    private static InProcessFhirServer server;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        server = new InProcessFhirServer(CTX);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void raisesTheOrderFromRoutineToStatAndNeverLowersIt() throws Exception {
        server.clear();
        String id = server.addServiceRequest(order("ACC7", ServiceRequest.ServiceRequestPriority.ROUTINE));
        server.addServiceRequest(order("ACC8", ServiceRequest.ServiceRequestPriority.ROUTINE));
        AtomicReference<WorklistRepository.Entry> entry = new AtomicReference<>();
        try (FhirDelivery delivery = delivery()) {
            FhirServiceRequestExporter exporter = new FhirServiceRequestExporter(delivery, "", uid -> Optional.ofNullable(entry.get()));
            assertThat(exporter.kind()).isEqualTo("fhir-service-request");

            assertThat(exporter.attempt(delivery("ACC7"))).as("not on the worklist yet").isInstanceOf(Exporter.Attempt.Retry.class);

            entry.set(entry(Priority.STAT));
            assertThat(exporter.attempt(delivery("ACC7"))).isInstanceOfSatisfying(Exporter.Attempt.Delivered.class,
                    a -> assertThat(a.detail()).isEqualTo("ServiceRequest/" + id + " priority raised from routine to stat, version 2"));
            ServiceRequest raised = byId(id);
            assertThat(raised.getPriority()).isEqualTo(ServiceRequest.ServiceRequestPriority.STAT);
            assertThat(raised.getMeta().getVersionId()).isEqualTo("2");
            ServiceRequest v1 = (ServiceRequest) server.versions("ServiceRequest", id).get(0);
            v1.setPriority(ServiceRequest.ServiceRequestPriority.STAT);
            assertThat(CTX.newJsonParser().encodeResourceToString(strip(raised)))
                    .as("only the priority changed").isEqualTo(CTX.newJsonParser().encodeResourceToString(strip(v1)));
            assertThat(server.serviceRequests()).filteredOn(o -> !o.getIdElement().getIdPart().equals(id))
                    .singleElement().satisfies(o -> assertThat(o.getPriority())
                            .isEqualTo(ServiceRequest.ServiceRequestPriority.ROUTINE));

            // A reader lowered the study to routine, or a later result has fewer findings: the order stays stat.
            entry.set(entry(Priority.ROUTINE));
            assertThat(exporter.attempt(delivery("ACC7"))).isInstanceOfSatisfying(Exporter.Attempt.Delivered.class,
                    a -> assertThat(a.detail()).isEqualTo("ServiceRequest/" + id + " already stat, not lowered to routine"));
            assertThat(server.versions("ServiceRequest", id)).hasSize(2);
            assertThat(byId(id).getPriority()).isEqualTo(ServiceRequest.ServiceRequestPriority.STAT);
        }
    }

    @Test
    void findsTheOrderByAConfiguredAccessionSystem() throws Exception {
        server.clear();
        ServiceRequest order = order("ACC9", null);
        order.getIdentifierFirstRep().setSystem("urn:oid:1.2.3.99");
        String id = server.addServiceRequest(order);
        try (FhirDelivery delivery = delivery()) {
            FhirServiceRequestExporter exporter = new FhirServiceRequestExporter(delivery, "urn:oid:1.2.3.99",
                    uid -> Optional.of(entry(Priority.URGENT)));
            assertThat(exporter.attempt(delivery("ACC9"))).isInstanceOfSatisfying(Exporter.Attempt.Delivered.class,
                    a -> assertThat(a.detail()).startsWith("ServiceRequest/" + id + " priority raised from routine to urgent"));
            assertThat(exporter.attempt(delivery("ACC-OTHER"))).isInstanceOfSatisfying(Exporter.Attempt.Rejected.class,
                    r -> assertThat(r.error()).startsWith("TRIAGE-0508 no order: no ServiceRequest has the study's accession"
                            + " number (identifier system urn:oid:1.2.3.99)").doesNotContain("ACC-OTHER"));
        }
    }

    @Test
    void twoOrdersWithTheAccessionNumberAreAmbiguous() throws Exception {
        server.clear();
        server.addServiceRequest(order("ACC7", ServiceRequest.ServiceRequestPriority.ROUTINE));
        server.addServiceRequest(order("ACC7", ServiceRequest.ServiceRequestPriority.URGENT));
        try (FhirDelivery delivery = delivery()) {
            FhirServiceRequestExporter exporter = new FhirServiceRequestExporter(delivery, "",
                    uid -> Optional.of(entry(Priority.STAT)));
            assertThat(exporter.attempt(delivery("ACC7"))).isInstanceOfSatisfying(Exporter.Attempt.Rejected.class,
                    r -> assertThat(r.error()).startsWith("TRIAGE-0508 ambiguous: 2 ServiceRequests").doesNotContain("ACC7"));
            assertThat(exporter.attempt(delivery(""))).isInstanceOfSatisfying(Exporter.Attempt.Rejected.class,
                    r -> assertThat(r.error()).isEqualTo("TRIAGE-0508 no accession number: the order (ServiceRequest)"
                            + " cannot be found"));
            assertThat(server.serviceRequests()).allSatisfy(o -> assertThat(o.getMeta().getVersionId()).isEqualTo("1"));
        }
    }

    private static FhirDelivery delivery() {
        return new FhirDelivery(FhirDeliveryOptions.builder(server.base()).readTimeout(Duration.ofSeconds(10))
                .validation(FhirDeliveryOptions.Validation.SKIP).build(), CTX, new Fixtures.ManualClock(T0));
    }

    private static ServiceRequest byId(String id) {
        return server.serviceRequests().stream().filter(o -> o.getIdElement().getIdPart().equals(id)).findFirst()
                .orElseThrow();
    }

    private static ServiceRequest strip(ServiceRequest r) {
        ServiceRequest c = r.copy();
        c.setId((String) null);
        c.getMeta().setVersionId(null).setLastUpdated(null);
        return c;
    }

    /** An order as a RIS places it: accession identifier typed ACSN, the CT procedure, the patient. */
    static ServiceRequest order(String accession, ServiceRequest.ServiceRequestPriority priority) {
        ServiceRequest order = new ServiceRequest();
        order.setStatus(ServiceRequest.ServiceRequestStatus.ACTIVE);
        order.setIntent(ServiceRequest.ServiceRequestIntent.ORDER);
        order.addIdentifier(new Identifier().setValue(accession).setType(new CodeableConcept(new Coding(
                "http://terminology.hl7.org/CodeSystem/v2-0203", "ACSN", "Accession ID"))));
        order.setCode(new CodeableConcept().setText("CT abdomen"));
        order.setSubject(new Reference().setIdentifier(new Identifier().setSystem("urn:cttriage:patient-id")
                .setValue("PHANTOM-7")));
        if (priority != null) {
            order.setPriority(priority);
        }
        return order;
    }

    static WorklistRepository.Entry entry(Priority priority) {
        return new WorklistRepository.Entry("1.2.3.4", priority, List.of("aortic_aneurysm"), "model",
                WorklistRepository.State.NEW, T0, T0, T0, null, null);
    }

    static DeliveryLedger.Delivery delivery(String accession) {
        return new DeliveryLedger.Delivery(1, 1, "fhir-service-request", DeliveryState.PENDING, 0, null,
                new SeriesKey("1.2.3.4", "1.2.3.4.5"), Path.of("sr.dcm"), "{}", T0,
                "{\"StudyInstanceUID\":\"1.2.3.4\",\"PatientID\":\"PHANTOM-7\",\"IssuerOfPatientID\":\"\","
                        + "\"AccessionNumber\":\"" + accession + "\"}", null, null);
    }
}
