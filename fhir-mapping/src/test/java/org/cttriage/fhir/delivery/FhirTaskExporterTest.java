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
import org.cttriage.fhir.mapping.FhirMappingOptions;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The study's priority to a real (in-process HAPI) FHIR server as one Task per study: created, then replaced when the
 * worklist's priority rises, never a second Task; a study not on the worklist yet is retried, not sent.
 */
class FhirTaskExporterTest {
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
    void oneTaskPerStudyFollowingTheWorklistsPriority() throws Exception {
        server.clear();
        AtomicReference<WorklistRepository.Entry> entry = new AtomicReference<>();
        try (FhirDelivery delivery = new FhirDelivery(FhirDeliveryOptions.builder(server.base())
                .readTimeout(Duration.ofSeconds(10)).deadLetterDir(dir).build(), CTX, new Fixtures.ManualClock(T0),
                Fixtures.validator())) {
            FhirTaskExporter exporter = new FhirTaskExporter(delivery, FhirMappingOptions.defaults(),
                    uid -> Optional.ofNullable(entry.get()));
            assertThat(exporter.kind()).isEqualTo("fhir-task");
            DeliveryLedger.Delivery d = delivery();

            assertThat(exporter.attempt(d)).as("not on the worklist yet").isInstanceOf(Exporter.Attempt.Retry.class);
            assertThat(server.tasks()).isEmpty();

            entry.set(entry(Priority.URGENT, List.of("liver_mass")));
            assertThat(exporter.attempt(d)).isInstanceOf(Exporter.Attempt.Delivered.class);
            assertThat(server.tasks()).singleElement().satisfies(t -> {
                assertThat(t.getPriority()).isEqualTo(Task.TaskPriority.URGENT);
                assertThat(t.getBasedOnFirstRep().getIdentifier().getValue()).isEqualTo("ACC7");
                assertThat(t.getFor().getIdentifier().getValue()).isEqualTo("PHANTOM-7");
            });

            entry.set(entry(Priority.STAT, List.of("aortic_aneurysm")));
            assertThat(exporter.attempt(d)).isInstanceOf(Exporter.Attempt.Delivered.class);
            assertThat(server.tasks()).singleElement().satisfies(t -> {
                assertThat(t.getPriority()).isEqualTo(Task.TaskPriority.STAT);
                assertThat(t.getMeta().getVersionId()).isEqualTo("2");
                assertThat(t.getDescription()).contains("aortic_aneurysm");
            });
            // Sent again unchanged (a retry after a lost answer): nothing new is stored.
            assertThat(exporter.attempt(d)).isInstanceOf(Exporter.Attempt.Delivered.class);
            assertThat(server.tasks()).singleElement().satisfies(t -> assertThat(t.getMeta().getVersionId()).isEqualTo("2"));
        }
    }

    private static WorklistRepository.Entry entry(Priority priority, List<String> causes) {
        return new WorklistRepository.Entry("1.2.3.4", priority, causes, "model", WorklistRepository.State.NEW, T0, T0,
                T0, null, null);
    }

    private static DeliveryLedger.Delivery delivery() {
        return new DeliveryLedger.Delivery(1, 1, "fhir-task", DeliveryState.PENDING, 0, null,
                new SeriesKey("1.2.3.4", "1.2.3.4.5"), Path.of("sr.dcm"), "{}", T0,
                "{\"StudyInstanceUID\":\"1.2.3.4\",\"PatientID\":\"PHANTOM-7\",\"IssuerOfPatientID\":\"\","
                        + "\"AccessionNumber\":\"ACC7\"}", null, null);
    }
}
