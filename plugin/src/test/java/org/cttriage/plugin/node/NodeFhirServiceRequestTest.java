package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.inference.EngineOptions;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.inference.ModelPackage;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.DeliveryScheduler;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.RetryPolicy;
import org.cttriage.core.node.WorklistRepository;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.fhir.delivery.FhirDelivery;
import org.cttriage.fhir.delivery.FhirDeliveryOptions;
import org.cttriage.fhir.delivery.FhirExporter;
import org.cttriage.fhir.delivery.FhirServiceRequestExporter;
import org.cttriage.fhir.delivery.InProcessFhirServer;
import org.cttriage.fhir.mapping.FhirMappingOptions;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.h2.jdbcx.JdbcConnectionPool;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The study's priority raised on its order through the node's delivery model: storescu sends a study whose order
 * (a routine ServiceRequest with the study's accession number) waits on the in-process FHIR server; the site rates
 * emphysema stat, so the order becomes stat, once, beside the DiagnosticReport; a second study whose accession
 * number no order carries gets its report and a dead letter that says "no order", without the accession number.
 */
@RequiresTools("storescu")
class NodeFhirServiceRequestTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final RetryPolicy FAST = new RetryPolicy(100, Duration.ofMillis(200), 2.0, Duration.ofSeconds(1));

    @TempDir
    Path dir;

    @Test
    void theStudysOrderIsRaisedOnceAndAStudyWithoutOrderSaysSo() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (InferenceEngine engine = new InferenceEngine(ModelPackage.load(WorklistNode.PACKAGE), EngineOptions
                .defaults().withDevice(EngineOptions.Device.CPU).withSeverities(Map.of("emphysema", Priority.STAT)));
             InProcessFhirServer fhir = new InProcessFhirServer(FhirExporter.context());
             FhirDelivery bundles = delivery(fhir);
             FhirDelivery orders = delivery(fhir)) {
            JdbcConnectionPool dataSource = NodeDatabaseFiles.open(dir.resolve("node"));
            WorklistRepository[] worklist = new WorklistRepository[1];
            FhirServiceRequestExporter exporter = new FhirServiceRequestExporter(orders, "", study -> {
                try {
                    return worklist[0].find(study);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            TriageNode node = TriageNode.start(TriageNode.Config.defaults("CTTRIAGE", 0, dir.resolve("node"),
                            List.of(Destination.fhir(), Destination.fhirServiceRequest()))
                            .withQuietPeriod(Duration.ofSeconds(1)),
                    dataSource, engine, SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool, List.of(
                            new DeliveryScheduler.Lane(Destination.FHIR, new FhirExporter(bundles,
                                    FhirMappingOptions.defaults(), Clock.systemUTC()), FAST),
                            new DeliveryScheduler.Lane(Destination.FHIR_SERVICE_REQUEST, exporter, FAST)),
                    Clock.systemUTC(), TriageNode.Observers.none());
            try {
                worklist[0] = new WorklistRepository(node.database());
                var series = PhantomSeries.write(21, 64, 20, 10, dir.resolve("ct"));
                String accession = accession(series.files().get(0));
                String id = fhir.addServiceRequest(order(accession));
                assertThat(storescu(node, series.files())).isZero();

                Eventually.await(WAIT, "both deliveries done", () -> node.ledger().inState(DeliveryState.DELIVERED),
                        l -> l.size() == 2);
                assertThat(fhir.reports()).hasSize(1);
                assertThat(fhir.serviceRequests()).singleElement().satisfies(o -> {
                    assertThat(o.getIdElement().getIdPart()).isEqualTo(id);
                    assertThat(o.getPriority()).isEqualTo(ServiceRequest.ServiceRequestPriority.STAT);
                    assertThat(o.getMeta().getVersionId()).as("raised once").isEqualTo("2");
                });
                assertThat(node.ledger().inState(DeliveryState.DELIVERED)).extracting(DeliveryLedger.Delivery::destination)
                        .containsExactlyInAnyOrder("fhir", "fhir-service-request");

                var other = PhantomSeries.write(22, 64, 20, 10, dir.resolve("ct2"));
                String otherAccession = accession(other.files().get(0));
                for (Path f : other.files()) {
                    AttributeList list = read(f);
                    list.remove(TagFromName.AccessionNumber);
                    Attribute a = new com.pixelmed.dicom.ShortStringAttribute(TagFromName.AccessionNumber);
                    a.addValue("NO-ORDER-" + otherAccession);
                    list.put(a);
                    list.write(f.toString(), TransferSyntax.ExplicitVRLittleEndian, true, true);
                }
                assertThat(storescu(node, other.files())).isZero();
                DeliveryLedger.Delivery dead = Eventually.await(WAIT, "the second order given up",
                        () -> node.ledger().inState(DeliveryState.DEAD).stream().findFirst().orElse(null),
                        d -> d != null);
                assertThat(dead.destination()).isEqualTo("fhir-service-request");
                assertThat(dead.attempts()).isEqualTo(1);
                assertThat(dead.lastError()).startsWith("TRIAGE-0508 no order: no ServiceRequest has the study's"
                        + " accession number").doesNotContain(otherAccession);
                Eventually.await(WAIT, "its report delivered all the same", () -> fhir.reports(), r -> r.size() == 2);
                assertThat(fhir.serviceRequests()).singleElement()
                        .satisfies(o -> assertThat(o.getMeta().getVersionId()).isEqualTo("2"));
            } finally {
                node.close();
                dataSource.dispose();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static int storescu(TriageNode node, List<Path> files) throws Exception {
        List<String> command = new ArrayList<>(List.of("storescu", "-aet", "MODALITY", "-aec", "CTTRIAGE",
                "127.0.0.1", Integer.toString(node.port())));
        files.forEach(f -> command.add(f.toString()));
        return ExternalCommand.run(WAIT, command).exitCode();
    }

    private static AttributeList read(Path f) throws Exception {
        AttributeList list = new AttributeList();
        list.read(f.toString());
        return list;
    }

    private static String accession(Path f) throws Exception {
        String a = Attribute.getSingleStringValueOrEmptyString(read(f), TagFromName.AccessionNumber);
        assertThat(a).isNotEmpty();
        return a;
    }

    /** The study's order as the RIS placed it on the FHIR server: routine, accession identifier typed ACSN. */
    private static ServiceRequest order(String accession) {
        ServiceRequest order = new ServiceRequest();
        order.setStatus(ServiceRequest.ServiceRequestStatus.ACTIVE);
        order.setIntent(ServiceRequest.ServiceRequestIntent.ORDER);
        order.setPriority(ServiceRequest.ServiceRequestPriority.ROUTINE);
        order.addIdentifier(new Identifier().setValue(accession).setType(new CodeableConcept(new Coding(
                "http://terminology.hl7.org/CodeSystem/v2-0203", "ACSN", "Accession ID"))));
        order.setSubject(new Reference().setIdentifier(new Identifier().setSystem("urn:cttriage:patient-id")
                .setValue("PHANTOM")));
        return order;
    }

    private FhirDelivery delivery(InProcessFhirServer fhir) {
        return new FhirDelivery(FhirDeliveryOptions.builder(fhir.base()).connectTimeout(Duration.ofSeconds(2))
                .readTimeout(Duration.ofSeconds(10)).deadLetterDir(dir.resolve("unused")).build(),
                FhirExporter.context(), Clock.systemUTC());
    }
}
