package org.cttriage.routes;

import org.cttriage.core.node.DeliveryLedger;

/** Sends one result's FHIR bundle; FHIR delivery retries by itself (its own policy and dead letters). */
@FunctionalInterface
public interface FhirDeliverer {
    /** Outcome of one FHIR delivery. */
    enum Outcome {
        DELIVERED, GIVEN_UP
    }

    Outcome deliver(DeliveryLedger.Delivery delivery) throws Exception;
}
