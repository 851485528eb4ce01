package org.cttriage.fhir.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.cttriage.fhir.delivery.Fixtures.CORRELATION;
import static org.cttriage.fhir.delivery.Fixtures.CTX;
import static org.cttriage.fhir.delivery.Fixtures.T0;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.cttriage.fhir.delivery.Fixtures.ManualClock;
import org.cttriage.fhir.delivery.Fixtures.RecordingSleeper;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Device;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Provenance;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FhirDelivery against a real FHIR server (HAPI's RestfulServer, in-process): the bundle's conditional creates
 * keep a re-sent result from being stored twice, and what is stored is the reviewed golden file.
 */
class FhirDeliveryHapiServerTest {
    static final Path GOLDEN = Path.of("src", "test", "resources", "golden", "fhir-stored-resources.json");
    static final List<Class<? extends Resource>> TYPES = List.of(Device.class, DiagnosticReport.class,
            Observation.class, Provenance.class);

    static InProcessFhirServer server;
    static IGenericClient reader;

    @TempDir
    Path dir;

    final ManualClock clock = new ManualClock(T0);
    final RecordingSleeper sleeper = new RecordingSleeper(clock);
    FhirDelivery delivery;

    @BeforeAll
    static void start() throws Exception {
        server = new InProcessFhirServer(CTX);
        reader = CTX.newRestfulGenericClient(server.base().toString());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @BeforeEach
    void fresh() {
        server.clear();
        server.loseNextAnswers(0);
    }

    @AfterEach
    void close() {
        if (delivery != null) {
            delivery.close();
        }
    }

    FhirDelivery delivery(int maxAttempts) {
        delivery = new FhirDelivery(FhirDeliveryOptions.builder(server.base()).maxAttempts(maxAttempts)
                .readTimeout(Duration.ofSeconds(10)).deadLetterDir(dir).build(), CTX, clock, sleeper, Fixtures.validator());
        return delivery;
    }

    @Test
    void theSameResultSentTwiceIsStoredOnceAndMatchesTheGoldenFile() throws Exception {
        FhirDelivery d = delivery(3);

        DeliveryResult first = d.deliver(Fixtures.bundle(), CORRELATION);
        DeliveryResult second = d.deliver(Fixtures.bundle(), CORRELATION);

        assertThat(statuses(first)).containsOnly("201 Created").hasSize(7);
        assertThat(statuses(second)).as("every conditional create found its resource").containsOnly("200 OK").hasSize(7);
        assertOneResultStored();

        String stored = stored();
        if (Boolean.getBoolean("golden.update")) {
            Files.createDirectories(GOLDEN.getParent());
            Files.writeString(GOLDEN, stored);
        }
        assertThat(stored).isEqualTo(Files.readString(GOLDEN));
    }

    @Test
    void retryingADeadLetterWhoseTransactionWasCommittedCreatesNothingNew() throws Exception {
        server.loseNextAnswers(1);
        FhirDelivery d = delivery(1);

        DeliveryResult lost = d.deliver(Fixtures.bundle(), CORRELATION);

        assertThat(lost).isInstanceOfSatisfying(DeliveryResult.DeadLettered.class,
                x -> assertThat(x.reason()).startsWith("TRIAGE-0501 HTTP 502"));
        assertOneResultStored(); // committed, although the client was told otherwise
        String id = ((DeliveryResult.DeadLettered) lost).deadLetterId();

        DeliveryResult retried = d.deadLetters().retry(id, d);

        assertThat(statuses(retried)).containsOnly("200 OK").hasSize(7);
        assertOneResultStored();
        assertThat(d.deadLetters().list()).isEmpty();
    }

    @Test
    void referencesPointAtTheStoredResources() throws Exception {
        delivery(1).deliver(Fixtures.bundle(), CORRELATION);
        DiagnosticReport report = (DiagnosticReport) search(DiagnosticReport.class).get(0);
        assertThat(report.getResult()).hasSize(4).allSatisfy(r -> assertThat(r.getReference()).matches("Observation/\\d+"));
        for (Reference r : report.getResult()) {
            Observation o = reader.read().resource(Observation.class).withUrl(r.getReference()).execute();
            assertThat(o.getDevice().getReference()).matches("Device/\\d+");
        }
        Provenance p = (Provenance) search(Provenance.class).get(0);
        assertThat(p.getTarget()).hasSize(5).allSatisfy(r -> assertThat(r.getReference()).matches("(DiagnosticReport|Observation)/\\d+"));
    }

    private static List<String> statuses(DeliveryResult r) {
        assertThat(r).isInstanceOf(DeliveryResult.Delivered.class);
        return ((DeliveryResult.Delivered) r).response().getEntry().stream().map(e -> e.getResponse().getStatus()).toList();
    }

    private static void assertOneResultStored() {
        assertThat(search(DiagnosticReport.class)).hasSize(1);
        assertThat(search(Observation.class)).hasSize(4);
        assertThat(search(Device.class)).hasSize(1);
        assertThat(search(Provenance.class)).hasSize(1);
    }

    private static List<Resource> search(Class<? extends Resource> type) {
        return reader.search().forResource(type).returnBundle(Bundle.class).execute().getEntry().stream()
                .map(Bundle.BundleEntryComponent::getResource).toList();
    }

    /**
     * Everything the server holds, as reviewed JSON: server-assigned ids, versions and timestamps removed, and each
     * reference to a stored resource written as the conditional reference of its identifier (or tag), which is what
     * the server-assigned id stands for.
     */
    private static String stored() {
        List<Resource> all = new ArrayList<>();
        TYPES.forEach(t -> all.addAll(search(t)));
        Map<String, String> key = new HashMap<>();
        for (Resource r : all) {
            key.put(r.getIdElement().toUnqualifiedVersionless().getValue(), r.fhirType() + "?" + naturalKey(r));
        }
        for (Resource r : all) {
            for (Reference ref : CTX.newTerser().getAllPopulatedChildElementsOfType(r, Reference.class)) {
                if (ref.hasReference()) {
                    assertThat(key).as("reference %s resolves", ref.getReference()).containsKey(ref.getReference());
                    ref.setReference(key.get(ref.getReference()));
                }
            }
            r.setId((String) null);
            r.getMeta().setVersionId(null).setLastUpdated(null);
            if (r.getMeta().isEmpty()) {
                r.setMeta(null);
            }
        }
        Bundle out = new Bundle().setType(Bundle.BundleType.COLLECTION);
        all.stream().sorted(Comparator.comparing(Resource::fhirType).thenComparing(FhirDeliveryHapiServerTest::naturalKey))
                .forEach(r -> out.addEntry().setResource(r));
        return CTX.newJsonParser().setPrettyPrint(true).encodeResourceToString(out) + "\n";
    }

    private static String naturalKey(Resource r) {
        List<Identifier> ids = InProcessFhirServer.MemoryStore.identifiers(r);
        if (!ids.isEmpty()) {
            return "identifier=" + ids.get(0).getSystem() + "|" + ids.get(0).getValue();
        }
        Coding tag = r.getMeta().getTagFirstRep();
        return "_tag=" + tag.getSystem() + "|" + tag.getCode();
    }
}
