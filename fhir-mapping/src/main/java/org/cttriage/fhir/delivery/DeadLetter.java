package org.cttriage.fhir.delivery;

import java.time.Instant;

/**
 * What {@link FhirDeadLetterStore} knows about one undelivered bundle (the bundle itself is read with
 * {@link FhirDeadLetterStore#bundle(String)}).
 *
 * @param id            the file name without {@code .json}; stable for one bundle, so dead-lettering it again updates
 *                      this entry instead of adding one
 * @param correlationId what the delivery named it by: study and series, never patient data
 * @param firstAttempt  when the bundle was first tried
 * @param lastAttempt   when it was last tried
 * @param attempts      how many times it was sent, over all deliveries and retries
 * @param lastStatus    HTTP status of the last answer, 0 when there was none (timeout, connection error, not sent)
 * @param lastError     the last failure, starting with its TRIAGE code; may quote the server's OperationOutcome
 */
public record DeadLetter(String id, String correlationId, Instant firstAttempt, Instant lastAttempt, int attempts,
                         int lastStatus, String lastError) {
}
