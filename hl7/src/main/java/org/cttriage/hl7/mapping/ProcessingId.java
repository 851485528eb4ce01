package org.cttriage.hl7.mapping;

/** MSH-11, processing ID (HL7 table 0103), as the RIS interface expects it ({@code hl7.processing-id}). */
public enum ProcessingId {
    /** P: production. */
    P,
    /** T: training (a RIS's test system). */
    T,
    /** D: debugging. */
    D
}
