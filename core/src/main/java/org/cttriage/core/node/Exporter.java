package org.cttriage.core.node;

import java.time.Duration;
import java.util.Objects;

/**
 * One kind of destination (SR by C-STORE, FHIR transaction, later HL7 v2, SEG, key images): makes a
 * single attempt at one delivery and says how it went. It never sleeps, never retries and never
 * dead-letters: retry, back-off, dead letters and recovery belong to {@link DeliveryScheduler} and
 * {@link DeliveryLedger}. Everything an exporter needs is in the {@link DeliveryLedger.Delivery}
 * (the result, the source study's attributes recorded at triage time, the SR file); an exporter
 * reads nothing back from the SR it did not write. An exception thrown is taken as
 * {@link Attempt.Retry} after the policy's back-off.
 */
@FunctionalInterface
public interface Exporter {
    /** How one attempt went. */
    sealed interface Attempt permits Attempt.Delivered, Attempt.Retry, Attempt.Rejected {
        /** The destination acknowledged it; {@code detail} (ids, counts; no patient data) is logged. */
        record Delivered(String detail) implements Attempt {
        }

        /**
         * It may pass later (no answer, 5xx, 429, a transient DICOM failure).
         *
         * @param error why, with its TRIAGE code; no patient data
         * @param after the destination's own wait (HTTP Retry-After), or null for the policy's back-off
         */
        record Retry(String error, Duration after) implements Attempt {
            public Retry {
                Objects.requireNonNull(error, "error");
            }
        }

        /** It will never pass as it is (the destination refused its content): straight to the dead letters. */
        record Rejected(String error) implements Attempt {
            public Rejected {
                Objects.requireNonNull(error, "error");
            }
        }
    }

    /** One attempt at {@code delivery}; at most the kind's own timeouts long. */
    Attempt attempt(DeliveryLedger.Delivery delivery) throws Exception;

    /** The kind of destination, a metrics label and audit detail: {@code dicom-sr}, {@code fhir}, … */
    default String kind() {
        return "other";
    }
}
