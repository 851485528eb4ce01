package org.cttriage.hl7.delivery;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.model.Structure;
import ca.uhn.hl7v2.parser.CanonicalModelClassFactory;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What a RIS's acknowledgement says, read with HAPI (any HL7 v2 version, as the v2.5.1 structures; ACK, ORR^O02 or
 * ORI^O24 alike): MSA-1, MSA-2, and each ERR's coded parts. The free text (MSA-3, ERR-7, ERR-8) is kept apart: RIS
 * fill it with the values they refused, patient identifiers among them, so it goes to debug logging only.
 *
 * @param code MSA-1 (HL7 table 0008)
 * @param controlId MSA-2: the MSH-10 of the message acknowledged
 * @param errors each ERR segment's coded parts, in order
 * @param freeText MSA-3 and each ERR-7/ERR-8, for debug logging only
 */
record Acknowledgement(String code, String controlId, List<ErrorDetail> errors, String freeText) {
    /**
     * One ERR segment's coded parts.
     *
     * @param location ERR-2 (or ERR-1 of versions before 2.5) as SEG-n, e.g. ORC-3; "" when absent
     * @param code ERR-3 (table 0357), or ERR-1.4's code before 2.5; "" when absent
     * @param text that code's text
     * @param severity ERR-4 (table 0516: E, W, I); "" when absent
     * @param applicationCode ERR-5's identifier; "" when absent
     */
    record ErrorDetail(String location, String code, String text, String severity, String applicationCode) {
        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            if (!code.isEmpty()) {
                b.append("ERR-3 ").append(code);
                if (!text.isEmpty()) {
                    b.append(' ').append(text);
                }
            }
            if (!severity.isEmpty()) {
                b.append(b.isEmpty() ? "" : " ").append("severity ").append(severity);
            }
            if (!location.isEmpty()) {
                b.append(b.isEmpty() ? "" : " ").append("at ").append(location);
            }
            if (!applicationCode.isEmpty()) {
                b.append(b.isEmpty() ? "" : "; ").append("application error ").append(applicationCode);
            }
            return b.toString();
        }
    }

    /**
     * Codes of HL7 table 0357 that say the message was fine and the RIS could not take it just now: 206 application
     * record locked, 207 application internal error.
     */
    static final Set<String> TRANSIENT_ERRORS = Set.of("206", "207");

    private static final HapiContext PARSING = parsingContext();

    private static HapiContext parsingContext() {
        // Any version the RIS answers in, read as 2.5.1; no validation: an acknowledgement is read, not judged.
        HapiContext c = new DefaultHapiContext(new CanonicalModelClassFactory("2.5.1"));
        c.setValidationContext(ValidationContextFactory.noValidation());
        return c;
    }

    /** Whether an ERR says the condition is transient ({@link #TRANSIENT_ERRORS}). */
    boolean transientError() {
        return errors.stream().anyMatch(e -> TRANSIENT_ERRORS.contains(e.code()));
    }

    /** The coded parts, for the delivery's reason and the log: no free text. */
    String codedDetail() {
        List<String> parts = new ArrayList<>();
        for (ErrorDetail e : errors) {
            String s = e.toString();
            if (!s.isEmpty()) {
                parts.add(s);
            }
        }
        return parts.isEmpty() ? "no ERR segment" : String.join("; ", parts);
    }

    /** Reads {@code text}; empty when it is not an HL7 v2 message with an MSA. */
    static Optional<Acknowledgement> read(String text) {
        if (text == null || text.isBlank()) {
            return Optional.empty();
        }
        try {
            Message m = PARSING.getPipeParser().parse(text.replace("\n", "\r").replace("\r\r", "\r"));
            Terser t = new Terser(m);
            String code = value(t.get("/MSA-1"));
            if (code.isEmpty()) {
                return Optional.empty();
            }
            List<ErrorDetail> errors = new ArrayList<>();
            StringBuilder free = new StringBuilder(value(t.get("/MSA-3")));
            for (Structure s : m.getAll("ERR")) {
                Segment err = (Segment) s;
                String location = location(err, 2);
                String errorCode = value(Terser.get(err, 3, 0, 1, 1));
                String errorText = value(Terser.get(err, 3, 0, 2, 1));
                if (location.isEmpty()) {
                    location = location(err, 1);
                }
                if (errorCode.isEmpty()) {
                    // Before v2.5: ERR-1 is ELD, its 4th component the coded error (CE).
                    errorCode = value(Terser.get(err, 1, 0, 4, 1));
                    errorText = value(Terser.get(err, 1, 0, 4, 2));
                }
                errors.add(new ErrorDetail(location, errorCode, errorText, value(Terser.get(err, 4, 0, 1, 1)),
                        value(Terser.get(err, 5, 0, 1, 1))));
                for (int field : new int[] {7, 8}) {
                    String f = value(Terser.get(err, field, 0, 1, 1));
                    if (!f.isEmpty()) {
                        free.append(free.isEmpty() ? "" : " | ").append(f);
                    }
                }
            }
            return Optional.of(new Acknowledgement(code.toUpperCase(java.util.Locale.ROOT), value(t.get("/MSA-2")),
                    List.copyOf(errors), free.toString()));
        } catch (HL7Exception | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** ERR-2 (ERL) or ERR-1 (ELD): segment ID and field position, as SEG-n. */
    private static String location(Segment err, int field) throws HL7Exception {
        String segment = value(Terser.get(err, field, 0, 1, 1));
        String position = value(Terser.get(err, field, 0, 3, 1));
        if (segment.isEmpty()) {
            return "";
        }
        return position.isEmpty() ? segment : segment + "-" + position;
    }

    private static String value(String s) {
        return s == null ? "" : s.trim();
    }
}
