package org.cttriage.fhir.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.cttriage.fhir.delivery.Fixtures.CORRELATION;
import static org.cttriage.fhir.delivery.Fixtures.CTX;
import static org.cttriage.fhir.delivery.Fixtures.T0;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.cttriage.core.domain.FindingResult;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.core.node.Exporter.Attempt;
import org.cttriage.fhir.delivery.Fixtures.ManualClock;
import org.cttriage.fhir.mapping.FhirMappingOptions;
import org.cttriage.fhir.mapping.TriageBundleMapper;
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
 * FhirDelivery against a real FHIR server (HAPI's RestfulServer, in-process): the bundle's conditional creates and
 * updates keep a re-sent result from being stored twice, a superseding result of the study replaces its report and
 * observations by their next version, and what is stored is the reviewed golden file.
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
        delivery = new FhirDelivery(FhirDeliveryOptions.builder(server.base()).readTimeout(Duration.ofSeconds(10))
                .deadLetterDir(dir).build(), CTX, clock, Fixtures.validator());
    }

    @AfterEach
    void close() {
        delivery.close();
    }

    @Test
    void theSameResultSentTwiceIsStoredOnceAndMatchesTheGoldenFile() throws Exception {
        Attempt first = delivery.send(Fixtures.bundle(), CORRELATION);
        Attempt second = delivery.send(Fixtures.bundle(), CORRELATION);

        assertThat(detail(first)).endsWith(": 7 created, 0 updated or already present");
        assertThat(detail(second)).as("every conditional create and update found its resource")
                .endsWith(": 0 created, 7 updated or already present");
        assertThat(server.transactions()).isEqualTo(2);
        assertOneResultStored();
        assertThat(TYPES.stream().flatMap(t -> search(t).stream()))
                .as("an update that changes nothing is no new version").hasSize(7)
                .allSatisfy(r -> assertThat(r.getMeta().getVersionId()).isEqualTo("1"));

        String stored = stored();
        if (Boolean.getBoolean("golden.update")) {
            Files.createDirectories(GOLDEN.getParent());
            Files.writeString(GOLDEN, stored);
        }
        assertThat(stored).isEqualTo(Files.readString(GOLDEN));
    }

    @Test
    void aLostAnswerIsRetriedAndSendingAgainStoresNothingNew() throws Exception {
        server.loseNextAnswers(1);

        Attempt lost = delivery.send(Fixtures.bundle(), CORRELATION);

        assertThat(lost).isInstanceOfSatisfying(Attempt.Retry.class,
                x -> assertThat(x.error()).startsWith("TRIAGE-0501 HTTP 502"));
        assertOneResultStored(); // committed, although the client was told otherwise
        String before = stored();

        Attempt again = delivery.send(Fixtures.bundle(), CORRELATION);

        assertThat(detail(again)).endsWith(": 0 created, 7 updated or already present");
        assertOneResultStored();
        assertThat(stored()).isEqualTo(before);
        assertThat(reports().get(0).getMeta().getVersionId()).isEqualTo("1");
    }

    @Test
    void aSupersedingResultOfTheStudyReplacesItsReportAndObservationsByTheirNextVersion() throws Exception {
        TriageResult first = Fixtures.result();
        List<FindingResult> findings = new ArrayList<>(first.findings());
        FindingResult effusion = findings.get(0);
        findings.set(0, new FindingResult(effusion.id(), effusion.organ(), effusion.finding(), effusion.organCode(),
                0.97, effusion.threshold(), effusion.reportable(), effusion.present(), effusion.severity()));
        TriageResult later = new TriageResult(first.studyInstanceUid(), "1.2.3.4.6", List.of("1.2.3.4.6.1"),
                findings, first.organVolumesMl(), first.suggestedPriority(), first.model(), first.timingsMillis());
        assertThat(detail(delivery.send(Fixtures.bundle(), CORRELATION)))
                .endsWith(": 7 created, 0 updated or already present");
        DiagnosticReport v1 = reports().get(0);
        List<Resource> observationsV1 = search(Observation.class);

        Attempt superseding = delivery.send(bundle(later, Instant.parse("2026-04-14T09:20:00Z")),
                "study=1.2.3.4 series=1.2.3.4.6");

        assertThat(detail(superseding)).as("the report, its 4 observations and a new Provenance; the device found")
                .endsWith(": 1 created, 6 updated or already present");
        assertThat(reports()).singleElement().satisfies(r -> {
            assertThat(r.getIdElement().getIdPart()).isEqualTo(v1.getIdElement().getIdPart());
            assertThat(r.getIdentifierFirstRep().getValue()).isEqualTo(v1.getIdentifierFirstRep().getValue());
            assertThat(r.getMeta().getVersionId()).isEqualTo("2");
            assertThat(r.getIssuedElement().getValueAsString()).startsWith("2026-04-14T09:20:00");
            assertThat(r.getResult()).extracting(Reference::getReference)
                    .as("the same observations, by the ids they had").isEqualTo(v1.getResult().stream()
                            .map(Reference::getReference).toList());
        });
        List<Resource> history = server.versions("DiagnosticReport", v1.getIdElement().getIdPart());
        assertThat(history).extracting(h -> h.getMeta().getVersionId()).containsExactly("1", "2");
        assertThat(((DiagnosticReport) history.get(0)).getIssuedElement().getValueAsString())
                .as("the first version kept").startsWith("2026-04-14T09:05:00");
        List<Resource> observations = search(Observation.class);
        assertThat(observations).hasSize(4).allSatisfy(o -> {
            assertThat(o.getMeta().getVersionId()).isEqualTo("2");
            assertThat(observationsV1).extracting(x -> x.getIdElement().getIdPart())
                    .contains(o.getIdElement().getIdPart());
        });
        assertThat(observations).map(o -> ((Observation) o).getValueQuantity().getValue().toPlainString())
                .as("the superseding result's probabilities").contains("0.9700").doesNotContain("0.9300");
        assertThat(search(Device.class)).singleElement()
                .satisfies(d -> assertThat(d.getMeta().getVersionId()).isEqualTo("1"));
        List<Resource> provenances = search(Provenance.class);
        assertThat(provenances).as("one per result: who wrote which version").hasSize(2);
        assertThat(provenances).map(p -> ((Provenance) p).getRecordedElement().getValueAsString())
                .anySatisfy(t -> assertThat(t).startsWith("2026-04-14T09:20:00"));
        assertThat(provenances).allSatisfy(p -> assertThat(((Provenance) p).getTarget()).extracting(Reference::getReference)
                .contains("DiagnosticReport/" + v1.getIdElement().getIdPart()));
    }

    @Test
    void referencesPointAtTheStoredResources() throws Exception {
        assertThat(delivery.send(Fixtures.bundle(), CORRELATION)).isInstanceOf(Attempt.Delivered.class);
        DiagnosticReport report = reports().get(0);
        assertThat(report.getResult()).hasSize(4).allSatisfy(r -> assertThat(r.getReference()).matches("Observation/\\d+"));
        for (Reference r : report.getResult()) {
            Observation o = reader.read().resource(Observation.class).withUrl(r.getReference()).execute();
            assertThat(o.getDevice().getReference()).matches("Device/\\d+");
        }
        Provenance p = (Provenance) search(Provenance.class).get(0);
        assertThat(p.getTarget()).hasSize(5).allSatisfy(r -> assertThat(r.getReference()).matches("(DiagnosticReport|Observation)/\\d+"));
    }

    @Test
    void anOutageAnswers503WithRetryAfterThenRefusesConnectionsOnTheSamePort() throws Exception {
        server.unavailable(true);
        try {
            Attempt a = delivery.send(Fixtures.bundle(), CORRELATION);
            assertThat(a).isInstanceOfSatisfying(Attempt.Retry.class, r -> {
                assertThat(r.error()).startsWith("TRIAGE-0501 HTTP 503");
                assertThat(r.after()).isEqualTo(Duration.ofSeconds(1));
            });
        } finally {
            server.unavailable(false);
        }
        assertThat(server.transactions()).as("refused before the FHIR server").isZero();

        server.stopListening();
        try {
            assertThat(delivery.send(Fixtures.bundle(), CORRELATION)).isInstanceOfSatisfying(Attempt.Retry.class,
                    r -> assertThat(r.error()).startsWith("TRIAGE-0501 no answer from " + server.base()));
        } finally {
            server.resumeListening();
        }
        assertThat(delivery.send(Fixtures.bundle(), CORRELATION)).isInstanceOf(Attempt.Delivered.class);
        assertThat(server.transactions()).isEqualTo(1);
        assertOneResultStored();
    }

    /** The transaction bundle of {@code r}, as FhirExporter maps it, issued at {@code issued}. */
    private static Bundle bundle(TriageResult r, Instant issued) {
        return new TriageBundleMapper(FhirMappingOptions.defaults()).toTransaction(r,
                new TriageBundleMapper.PatientIdentity("PHANTOM-7", "CTTRIAGE-PHANTOM"),
                Instant.parse("2026-04-14T09:00:00Z"), issued);
    }

    private static String detail(Attempt a) {
        assertThat(a).isInstanceOf(Attempt.Delivered.class);
        return ((Attempt.Delivered) a).detail();
    }

    private static List<DiagnosticReport> reports() {
        return search(DiagnosticReport.class).stream().map(DiagnosticReport.class::cast).toList();
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
