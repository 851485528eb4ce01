package org.cttriage.core.dicom.net;

import java.net.InetAddress;

/**
 * Observer of the listener's association events (logging, metrics, the audit trail, tests).
 * Exceptions thrown by an observer are contained and never affect the association (STYLE.md).
 * Every event of one association is delivered on that association's thread, in order: accepted,
 * then each C-STORE answered, then ended.
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

    /**
     * Whether this observer wants each stored instance's {@link InstanceSubject} (patient and study) in
     * {@link #instanceStored}: the listener then reads the first kilobytes of every received data set
     * once more before handing it to the store handler. False unless overridden.
     */
    default boolean needsSubjects() {
        return false;
    }

    /** A C-STORE on an accepted association was answered ({@code association} is the request accepted). */
    default void instanceStored(AssociationRequest association, StoredInstance instance) {
    }

    /** An accepted association ended (released, aborted or failed); called after {@link #ended(String, String)}. */
    default void associationEnded(AssociationRequest association, String how) {
    }

    /**
     * A TLS handshake (or a TLS record) with {@code peer} failed: no protocol or suite in common, plain
     * TCP on the TLS port, a refused certificate. A security event (TRIAGE-0630).
     */
    default void tlsFailed(InetAddress peer, String reason) {
    }
}
