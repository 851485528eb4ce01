package org.cttriage.core.node;

/** Where one result's delivery to one destination stands. */
public enum DeliveryState {
    /** Owed: to be attempted (again). */
    PENDING,
    /** The destination acknowledged it. */
    DELIVERED,
    /** Given up (the maximum attempts, or refused by the destination); an operator may retry or discard it. */
    DEAD,
    /**
     * Not sent: its result was superseded before this delivery's turn came, and the newer result's
     * delivery to the same destination takes its place (a late SR or report would only undo the newer one).
     */
    SUPERSEDED,
    /** An operator discarded the dead letter (dead-letters discard): it will not be sent. */
    DISCARDED
}
