package org.cttriage.core.domain;

import java.util.Locale;

/**
 * Reading priority, ordered routine &lt; urgent &lt; asap &lt; stat; the codes are FHIR R4
 * RequestPriority (http://hl7.org/fhir/request-priority).
 */
public enum Priority {
    ROUTINE, URGENT, ASAP, STAT;

    /** The FHIR RequestPriority code. */
    public String fhirCode() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a FHIR RequestPriority code; IllegalArgumentException naming the allowed values. */
    public static Priority fromFhirCode(String code) {
        for (Priority p : values()) {
            if (p.fhirCode().equals(code)) {
                return p;
            }
        }
        throw new IllegalArgumentException("priority must be one of routine, urgent, asap, stat; was " + code);
    }

    /** The higher of two priorities. */
    public Priority max(Priority other) {
        return compareTo(other) >= 0 ? this : other;
    }
}
