package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.cttriage.core.node.DeliveryScheduler;
import org.cttriage.core.node.DeliveryState;
import org.cttriage.core.node.RetryPolicy;
import org.cttriage.core.node.WorklistRepository;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.fhir.delivery.FhirDelivery;
import org.cttriage.fhir.delivery.FhirDeliveryOptions;
import org.cttriage.fhir.delivery.FhirExporter;
import org.cttriage.fhir.delivery.FhirTaskExporter;
import org.cttriage.fhir.delivery.InProcessFhirServer;
import org.cttriage.fhir.mapping.FhirMappingOptions;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.h2.jdbcx.JdbcConnectionPool;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The study's priority as a FHIR Task through the node's delivery model: a study received by storescu gets its
 * DiagnosticReport and one Task whose priority is the worklist's (here the site rates emphysema stat), each delivery
 * recorded once.
 */
@RequiresTools("storescu")
class NodeFhirTaskTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final RetryPolicy FAST = new RetryPolicy(100, Duration.ofMillis(200), 2.0, Duration.ofSeconds(1));

    @TempDir
    Path dir;

    @Test
    void theStudysPriorityArrivesAsOneTaskBesideItsReport() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (InferenceEngine engine = new InferenceEngine(ModelPackage.load(WorklistNode.PACKAGE), EngineOptions
                .defaults().withDevice(EngineOptions.Device.CPU).withSeverities(Map.of("emphysema", Priority.STAT)));
             InProcessFhirServer fhir = new InProcessFhirServer(FhirExporter.context());
             FhirDelivery bundles = delivery(fhir);
             FhirDelivery tasks = delivery(fhir)) {
            JdbcConnectionPool dataSource = NodeDatabaseFiles.open(dir.resolve("node"));
            WorklistRepository[] worklist = new WorklistRepository[1];
            FhirTaskExporter taskExporter = new FhirTaskExporter(tasks, FhirMappingOptions.defaults(), study -> {
                try {
                    return worklist[0].find(study);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            TriageNode node = TriageNode.start(TriageNode.Config.defaults("CTTRIAGE", 0, dir.resolve("node"),
                            List.of(Destination.fhir(), Destination.fhirTask())).withQuietPeriod(Duration.ofSeconds(1)),
                    dataSource, engine, SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool, List.of(
                            new DeliveryScheduler.Lane(Destination.FHIR, new FhirExporter(bundles,
                                    FhirMappingOptions.defaults(), Clock.systemUTC()), FAST),
                            new DeliveryScheduler.Lane(Destination.FHIR_TASK, taskExporter, FAST)),
                    Clock.systemUTC(), TriageNode.Observers.none());
            try {
                worklist[0] = new WorklistRepository(node.database());
                var series = PhantomSeries.write(21, 64, 20, 10, dir.resolve("ct"));
                List<String> command = new ArrayList<>(List.of("storescu", "-aet", "MODALITY", "-aec", "CTTRIAGE",
                        "127.0.0.1", Integer.toString(node.port())));
                series.files().forEach(f -> command.add(f.toString()));
                assertThat(ExternalCommand.run(WAIT, command).exitCode()).isZero();

                Eventually.await(WAIT, "both deliveries done", () -> node.ledger().inState(DeliveryState.DELIVERED),
                        l -> l.size() == 2);
                assertThat(fhir.reports()).hasSize(1);
                assertThat(fhir.tasks()).singleElement().satisfies(t -> {
                    assertThat(t.getPriority()).isEqualTo(Task.TaskPriority.STAT);
                    assertThat(t.getFocus().getIdentifier().getValue()).isEqualTo("urn:oid:" + series.studyInstanceUid());
                    assertThat(t.getDescription()).contains("emphysema");
                });
                assertThat(node.ledger().inState(DeliveryState.DELIVERED)).extracting(d -> d.destination())
                        .containsExactlyInAnyOrder("fhir", "fhir-task");
            } finally {
                node.close();
                dataSource.dispose();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private FhirDelivery delivery(InProcessFhirServer fhir) {
        return new FhirDelivery(FhirDeliveryOptions.builder(fhir.base()).connectTimeout(Duration.ofSeconds(2))
                .readTimeout(Duration.ofSeconds(10)).deadLetterDir(dir.resolve("unused")).build(),
                FhirExporter.context(), Clock.systemUTC());
    }
}
