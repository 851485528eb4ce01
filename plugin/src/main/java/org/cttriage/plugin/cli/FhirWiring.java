package org.cttriage.plugin.cli;

import java.time.Clock;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.DeliveryScheduler;
import org.cttriage.fhir.delivery.FhirDelivery;
import org.cttriage.fhir.delivery.FhirDeliveryOptions;
import org.cttriage.fhir.delivery.FhirExporter;
import org.cttriage.fhir.mapping.FhirMappingOptions;
import org.cttriage.plugin.node.NodeSettings;
import org.cttriage.plugin.node.Destination;

/** Builds the node's FHIR delivery lane (exporter and retry policy) from the {@code fhir.*} keys of the configuration. */
final class FhirWiring {
    private FhirWiring() {
    }

    static DeliveryScheduler.Lane lane(NodeSettings settings) throws TriageException {
        FhirDeliveryOptions options;
        try {
            options = FhirDeliveryOptions.fromConfig(settings.fhirLookup());
        } catch (IllegalArgumentException e) {
            throw new TriageException(ErrorCode.CONFIGURATION_INVALID, e.getMessage(), e);
        }
        // FhirDelivery validates each bundle itself when fhir.validate is on (an invalid one is a dead letter, unsent).
        FhirDelivery delivery = new FhirDelivery(options, FhirExporter.context(), Clock.systemUTC());
        FhirExporter exporter = new FhirExporter(delivery, FhirMappingOptions.defaults(), Clock.systemUTC());
        return new DeliveryScheduler.Lane(Destination.FHIR, exporter, exporter.retryPolicy());
    }

    /**
     * The lane of the study's priority as a FHIR Task ({@code fhir.priority-target=task}): the same server and retry keys as
     * the bundle's, the priority read from the worklist at each attempt.
     */
    static DeliveryScheduler.Lane taskLane(NodeSettings settings, javax.sql.DataSource dataSource) throws TriageException {
        FhirDeliveryOptions options;
        try {
            options = FhirDeliveryOptions.fromConfig(settings.fhirLookup());
        } catch (IllegalArgumentException e) {
            throw new TriageException(ErrorCode.CONFIGURATION_INVALID, e.getMessage(), e);
        }
        FhirDelivery delivery = new FhirDelivery(options, FhirExporter.context(), Clock.systemUTC());
        org.cttriage.core.node.WorklistRepository worklist = new org.cttriage.core.node.WorklistRepository(
                new org.cttriage.core.node.NodeDatabase(dataSource));
        org.cttriage.fhir.delivery.FhirTaskExporter exporter = new org.cttriage.fhir.delivery.FhirTaskExporter(delivery,
                FhirMappingOptions.defaults(), study -> {
                    try {
                        return worklist.find(study);
                    } catch (TriageException e) {
                        // The attempt fails and is retried under the lane's policy, with this reason.
                        throw new IllegalStateException(e.getMessage(), e);
                    }
                });
        return new DeliveryScheduler.Lane(Destination.FHIR_TASK, exporter, exporter.retryPolicy());
    }

    /**
     * The lane that raises the order's ServiceRequest.priority ({@code fhir.priority-target=service-request}): the same
     * server and retry keys as the bundle's, the priority read from the worklist at each attempt.
     */
    static DeliveryScheduler.Lane serviceRequestLane(NodeSettings settings, javax.sql.DataSource dataSource)
            throws TriageException {
        FhirDeliveryOptions options;
        try {
            options = FhirDeliveryOptions.fromConfig(settings.fhirLookup());
        } catch (IllegalArgumentException e) {
            throw new TriageException(ErrorCode.CONFIGURATION_INVALID, e.getMessage(), e);
        }
        String accessionSystem = settings.fhirAccessionSystem();
        FhirDelivery delivery = new FhirDelivery(options, FhirExporter.context(), Clock.systemUTC());
        org.cttriage.core.node.WorklistRepository worklist = new org.cttriage.core.node.WorklistRepository(
                new org.cttriage.core.node.NodeDatabase(dataSource));
        org.cttriage.fhir.delivery.FhirServiceRequestExporter exporter =
                new org.cttriage.fhir.delivery.FhirServiceRequestExporter(delivery, accessionSystem, study -> {
                    try {
                        return worklist.find(study);
                    } catch (TriageException e) {
                        // The attempt fails and is retried under the lane's policy, with this reason.
                        throw new IllegalStateException(e.getMessage(), e);
                    }
                });
        return new DeliveryScheduler.Lane(Destination.FHIR_SERVICE_REQUEST, exporter, exporter.retryPolicy());
    }
}
