package org.cttriage.core.node;

/** Where one result's delivery to one destination stands. */
public enum DeliveryState {
    /** Owed: to be attempted (again). */
    PENDING,
    /** The destination acknowledged it. */
    DELIVERED,
    /** Given up after the maximum attempts; an operator may retry it. */
    DEAD
}
