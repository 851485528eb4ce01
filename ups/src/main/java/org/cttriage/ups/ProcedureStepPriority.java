package org.cttriage.ups;

/**
 * Scheduled Procedure Step Priority (0074,1200), PS3.3 C.30.1: the three values the standard enumerates, in rising
 * order (so that {@code compareTo} says which is higher).
 */
public enum ProcedureStepPriority {
    LOW, MEDIUM, HIGH
}
