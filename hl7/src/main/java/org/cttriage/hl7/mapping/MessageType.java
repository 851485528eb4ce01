package org.cttriage.hl7.mapping;

/**
 * Which HL7 v2.5.1 order message carries the priority to the RIS ({@code hl7.message-type}).
 */
public enum MessageType {
    /**
     * ORM^O01 with ORC-1 = XO (change order): priority in ORC-7 and OBR-27, component 6 of TQ (table 0027). The
     * message most RIS still take, although HL7 v2.5 retained it for backward compatibility only.
     */
    ORM_O01("ORM", "O01"),
    /** OMI^O23 (imaging order, IHE Scheduled Workflow.b) with ORC-1 = XO: priority in TQ1-9 (table 0485). */
    OMI_O23("OMI", "O23");

    private final String code;
    private final String trigger;

    MessageType(String code, String trigger) {
        this.code = code;
        this.trigger = trigger;
    }

    /** MSH-9.1, the message code. */
    public String code() {
        return code;
    }

    /** MSH-9.2, the trigger event. */
    public String trigger() {
        return trigger;
    }

    /** MSH-9.3, the message structure. */
    public String structure() {
        return name();
    }
}
