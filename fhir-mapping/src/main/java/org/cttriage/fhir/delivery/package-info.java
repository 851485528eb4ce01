/**
 * Delivery of FHIR transaction bundles to a FHIR R4 server: {@link org.cttriage.fhir.delivery.FhirExporter} (the
 * delivery model's exporter for FHIR: a stored result mapped to its bundle, one attempt),
 * {@link org.cttriage.fhir.delivery.FhirDelivery} (HAPI generic client, one attempt, bearer or OAuth2
 * client-credentials authentication), {@link org.cttriage.fhir.delivery.FhirDeliveryOptions} (validated settings,
 * also from {@code fhir.*} keys) and {@link org.cttriage.fhir.delivery.FhirDeadLetterStore} (the dead-letter folder
 * of earlier versions, read to list, resend or discard what it still holds).
 */
package org.cttriage.fhir.delivery;
