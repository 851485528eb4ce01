/**
 * Delivery of FHIR transaction bundles to a FHIR R4 server: {@link org.cttriage.fhir.delivery.FhirDelivery}
 * (HAPI generic client, retries with backoff, bearer or OAuth2 client-credentials authentication),
 * {@link org.cttriage.fhir.delivery.FhirDeliveryOptions} (validated settings, also from {@code fhir.*} keys) and
 * {@link org.cttriage.fhir.delivery.FhirDeadLetterStore} (what could not be delivered, kept on disk to retry).
 */
package org.cttriage.fhir.delivery;
