package org.cttriage.plugin.cli;

import java.time.Clock;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.fhir.delivery.FhirDelivery;
import org.cttriage.fhir.delivery.FhirDeliveryOptions;
import org.cttriage.fhir.delivery.Sleeper;
import org.cttriage.fhir.mapping.FhirMappingOptions;
import org.cttriage.plugin.node.NodeSettings;
import org.cttriage.routes.FhirDeliverer;
import org.cttriage.routes.FhirResultDeliverer;

/** Builds the node's FHIR delivery from the {@code fhir.*} keys of the configuration. */
final class FhirWiring {
    private FhirWiring() {
    }

    static FhirDeliverer deliverer(NodeSettings settings) throws TriageException {
        FhirDeliveryOptions options;
        try {
            options = FhirDeliveryOptions.fromConfig(settings.fhirLookup());
        } catch (IllegalArgumentException e) {
            throw new TriageException(ErrorCode.CONFIGURATION_INVALID, e.getMessage(), e);
        }
        var context = FhirResultDeliverer.context();
        FhirDelivery delivery = new FhirDelivery(options, context, Clock.systemUTC(), Sleeper.system());
        // FhirDelivery validates each bundle itself when fhir.validate is on (invalid ones are dead-lettered unsent).
        return new FhirResultDeliverer(delivery, FhirMappingOptions.defaults(), Clock.systemUTC());
    }
}
