package org.cttriage.core.dicom.net;

/**
 * Observer of the listener's association events (logging, metrics, tests). Exceptions thrown
 * by an observer are contained and never affect the association (STYLE.md).
 */
public interface AssociationListener {
    /** An association was rejected with the given decision. */
    default void rejected(AssociationRequest request, AssociationDecision.Reject decision) {
    }

    /** An association was accepted. */
    default void accepted(AssociationRequest request) {
    }

    /** A C-STORE was answered. */
    default void storeAnswered(String callingAeTitle, String sopInstanceUid, DimseStatus status) {
    }

    /**
     * An association ended (A-RELEASE-RQ, A-ABORT, closed connection, protocol error) while a
     * C-STORE data set was half received; the partial instance was discarded, never acknowledged.
     */
    default void partialInstanceDiscarded(String callingAeTitle, String sopInstanceUid, String cause) {
    }

    /** An association ended (released, aborted or failed). */
    default void ended(String callingAeTitle, String how) {
    }
}
