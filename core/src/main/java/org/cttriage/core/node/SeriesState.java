package org.cttriage.core.node;

/** Where a series stands in the node. */
public enum SeriesState {
    /** Instances arriving; triaged once the quiet period has passed since the last one. */
    RECEIVING,
    /** Triaged: a result exists for its current instances (deliveries tracked separately). */
    TRIAGED,
    /** Complete, but no volume could be built or inference failed; the reason holds the TRIAGE code. */
    NOT_TRIAGED
}
