package org.cttriage.fhir.delivery;

import org.cttriage.core.error.ErrorCode;
import org.hl7.fhir.r4.model.Bundle;

/**
 * How a delivery ended. Every case but {@link Delivered} left the bundle in the dead-letter directory under
 * {@code deadLetterId}, so nothing is lost; {@link FhirDeadLetterStore} lists and retries it.
 */
public sealed interface DeliveryResult {
    /**
     * How many attempts were made. An attempt sends the bundle once, or twice when a 401 made the OAuth2 token be
     * fetched anew; it sends nothing when no token could be had; 0 attempts: the bundle was invalid and not sent.
     */
    int attempts();

    /**
     * One line for the operational log: the outcome, the TRIAGE code, the HTTP status, the
     * attempts and the dead letter, never the server's diagnostics or the bundle (either may
     * quote patient data; both stay in the dead letter).
     */
    String logSummary();

    /** The server accepted the transaction; {@code response} is its transaction-response Bundle. */
    record Delivered(Bundle response, int attempts) implements DeliveryResult {
        @Override
        public String logSummary() {
            return "delivered in " + attempts + " attempt(s)";
        }
    }

    /**
     * The server refused the bundle with a status that retrying cannot change (4xx other than 408 and 429;
     * 401/403 after any token refresh). {@code outcome} is the server's OperationOutcome as text (severity, code,
     * location and diagnostics of each issue), or the start of its non-FHIR answer.
     */
    record Rejected(int status, String outcome, int attempts, String deadLetterId) implements DeliveryResult {
        @Override
        public String logSummary() {
            return ErrorCode.FHIR_REJECTED.code() + " rejected with HTTP " + status + " after " + attempts
                    + " attempt(s); dead letter " + deadLetterId + " (the server's OperationOutcome is kept there)";
        }

        /** Not the record's default: {@code outcome} may quote patient data. */
        @Override
        public String toString() {
            return logSummary();
        }
    }

    /**
     * Given up without a final refusal: attempts exhausted on retryable failures, the bundle invalid before
     * sending (0 attempts), the token endpoint refusing the client, or the wait interrupted. {@code reason} starts
     * with the TRIAGE code of the last failure.
     */
    record DeadLettered(String reason, int attempts, String deadLetterId) implements DeliveryResult {
        @Override
        public String logSummary() {
            String code = reason.startsWith("TRIAGE-") && reason.length() >= 11 ? reason.substring(0, 11)
                    : ErrorCode.FHIR_DEAD_LETTERED.code();
            return code + " given up after " + attempts + " attempt(s); dead letter " + deadLetterId
                    + " (the last error is kept there)";
        }

        /** Not the record's default: {@code reason} may quote the server's answer. */
        @Override
        public String toString() {
            return logSummary();
        }
    }
}
