package org.cttriage.hl7.mapping;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.cttriage.core.domain.Priority;

/**
 * How the order message is addressed and coded: validated when built.
 *
 * @param type ORM^O01 or OMI^O23
 * @param sendingApplication MSH-3 (HD-1, namespace ID)
 * @param sendingFacility MSH-4, may be empty
 * @param receivingApplication MSH-5, may be empty
 * @param receivingFacility MSH-6, may be empty
 * @param processingId MSH-11
 * @param priorityCodes our priority → HL7 priority code (table 0027 for ORM's TQ-6, table 0485 for OMI's TQ1-9);
 *     every priority must have one
 */
public record OrderMessageOptions(MessageType type, String sendingApplication, String sendingFacility,
        String receivingApplication, String receivingFacility, ProcessingId processingId,
        Map<Priority, String> priorityCodes) {
    /**
     * The priority codes of HL7 table 0485 (Extended Priority Codes, a superset of table 0027): S stat, A ASAP,
     * R routine, P preop, C callback, T timing critical, PRN as needed, and T with a unit (S, M, H, D, W, L) and a
     * number: timing critical within that long.
     */
    public static final Pattern PRIORITY_CODE = Pattern.compile("S|A|R|P|C|T|PRN|T[SMHDWL]\\d{1,4}");

    /**
     * routine → R, urgent → A, asap → A, stat → S. HL7 v2 has no "urgent": R, A and S are the three codes HL7's own
     * v2-to-FHIR ConceptMap (table 0485 → RequestPriority) maps, and urgent is above routine, so it takes the next
     * code up rather than none (docs/hl7-mapping.md).
     */
    public static final Map<Priority, String> DEFAULT_PRIORITY_CODES = Collections.unmodifiableMap(new EnumMap<>(
            Map.of(Priority.ROUTINE, "R", Priority.URGENT, "A", Priority.ASAP, "A", Priority.STAT, "S")));

    /** An HD's namespace ID as the node writes it (MSH-3 to MSH-6): at most 20 characters, no HL7 delimiter. */
    public static final Pattern HD_NAMESPACE = Pattern.compile("[^|^~\\\\&\\r\\n]{0,20}");

    public OrderMessageOptions {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(processingId, "processingId");
        sendingApplication = namespace("sending application", sendingApplication);
        if (sendingApplication.isEmpty()) {
            throw new IllegalArgumentException("sending application (MSH-3) must not be empty");
        }
        sendingFacility = namespace("sending facility", sendingFacility);
        receivingApplication = namespace("receiving application", receivingApplication);
        receivingFacility = namespace("receiving facility", receivingFacility);
        Objects.requireNonNull(priorityCodes, "priorityCodes");
        EnumMap<Priority, String> codes = new EnumMap<>(Priority.class);
        for (Priority p : Priority.values()) {
            String code = priorityCodes.get(p);
            if (code == null || !PRIORITY_CODE.matcher(code).matches()) {
                throw new IllegalArgumentException("priority code for " + p.fhirCode() + " must be one of HL7 table"
                        + " 0485's: S, A, R, P, C, T, PRN, TS<n>, TM<n>, TH<n>, TD<n>, TW<n>, TL<n>; got " + code);
            }
            codes.put(p, code);
        }
        priorityCodes = Collections.unmodifiableMap(codes);
    }

    /** The defaults, to the given message type: sending application CTTRIAGE, production, the default codes. */
    public static OrderMessageOptions defaults(MessageType type) {
        return new OrderMessageOptions(type, "CTTRIAGE", "", "", "", ProcessingId.P, DEFAULT_PRIORITY_CODES);
    }

    /** The HL7 code of {@code priority}. */
    public String code(Priority priority) {
        return priorityCodes.get(priority);
    }

    private static String namespace(String what, String value) {
        String v = value == null ? "" : value.trim();
        if (!HD_NAMESPACE.matcher(v).matches()) {
            throw new IllegalArgumentException(what + " must be at most 20 characters without HL7 delimiters"
                    + " (| ^ ~ \\ &), got '" + v + "'");
        }
        return v;
    }
}
