package org.cttriage.hl7.mapping;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.v251.datatype.CE;
import ca.uhn.hl7v2.model.v251.datatype.CWE;
import ca.uhn.hl7v2.model.v251.datatype.CX;
import ca.uhn.hl7v2.model.v251.datatype.EI;
import ca.uhn.hl7v2.model.v251.message.OMI_O23;
import ca.uhn.hl7v2.model.v251.message.ORM_O01;
import ca.uhn.hl7v2.model.v251.segment.IPC;
import ca.uhn.hl7v2.model.v251.segment.MSH;
import ca.uhn.hl7v2.model.v251.segment.OBR;
import ca.uhn.hl7v2.model.v251.segment.ORC;
import ca.uhn.hl7v2.model.v251.segment.PID;
import ca.uhn.hl7v2.model.v251.segment.TQ1;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.cttriage.core.domain.Priority;

/**
 * A study's suggested reading priority as an HL7 v2.5.1 order message that changes the priority of the RIS's order
 * (ORC-1 = XO), found by the order's identifiers from the study: ORM^O01 (priority in ORC-7 and OBR-27, TQ-6) or
 * OMI^O23 (priority in TQ1-9, the accession and the requested procedure in IPC). Pure: no I/O; the field-by-field
 * mapping is docs/hl7-mapping.md.
 *
 * <p>A field the node does not know (the patient's name, the ordered procedure) is left empty, which HL7 v2 reads as
 * "not sent": the RIS keeps what it has. The node never writes HL7's explicit null {@code ""}, which would tell the
 * RIS to delete the value.
 */
public final class OrderMessageMapper {
    /** The HL7 version of every message built here (MSH-12). */
    public static final String VERSION = "2.5.1";
    /** ORC-1: change order/service request (HL7 table 0119). */
    public static final String CHANGE_ORDER = "XO";
    /** MSH-18 when a value is not ASCII (HL7 table 0211); absent, HL7 v2's default is ASCII. */
    public static final String UTF_8 = "UNICODE UTF-8";
    /** ORC-16's text: why the order changed. */
    static final String REASON = "Reading priority suggested by ct-triage (AI triage, not verified)";
    /** The coding system of TQ1-9 (HL7 table 0485, Extended Priority Codes). */
    static final String PRIORITY_TABLE = "HL70485";
    /** Texts of table 0485's fixed codes, for TQ1-9.2. */
    static final Map<String, String> PRIORITY_TEXT = Map.of("S", "Stat", "A", "ASAP", "R", "Routine", "P", "Preop",
            "C", "Callback", "T", "Timing critical", "PRN", "As needed");
    /** IPC-5: the node triages CT only (DICOM Defined Term, coding scheme DCM). */
    static final String[] MODALITY_CT = {"CT", "Computed Tomography", "DCM"};
    private static final DateTimeFormatter DTM = DateTimeFormatter.ofPattern("yyyyMMddHHmmssZ");

    /**
     * One message, encoded.
     *
     * @param text the ER7 (pipe-delimited) text, segments ended by CR
     * @param charset what its bytes must be written in: UTF-8 when MSH-18 says so, else US-ASCII
     * @param controlId MSH-10, which the RIS's acknowledgement must echo in MSA-2
     */
    public record Encoded(String text, Charset charset, String controlId) {
        public byte[] bytes() {
            return text.getBytes(charset);
        }
    }

    private final OrderMessageOptions options;
    private final HapiContext context;

    public OrderMessageMapper(OrderMessageOptions options) {
        this.options = Objects.requireNonNull(options, "options");
        // HAPI's default validation checks every primitive we set (dates, lengths of coded values) as we set it.
        this.context = new DefaultHapiContext();
    }

    public OrderMessageOptions options() {
        return options;
    }

    /**
     * The message that sets {@code order}'s priority to {@code priority}.
     *
     * @param controlId MSH-10 (at most 20 characters)
     * @param now MSH-7 and ORC-9
     * @throws IllegalArgumentException when the order has no accession number or no patient ID (nothing to find the
     *     order by), or the control ID is not 1 to 20 characters
     * @throws HL7Exception when HAPI refuses a value
     */
    public Message build(OrderReference order, Priority priority, String controlId, OffsetDateTime now)
            throws HL7Exception {
        Objects.requireNonNull(priority, "priority");
        if (order.accessionNumber().isEmpty()) {
            throw new IllegalArgumentException("no accession number: the RIS order cannot be found");
        }
        if (order.patientId().isEmpty()) {
            throw new IllegalArgumentException("no patient ID: PID-3 cannot be filled");
        }
        if (controlId == null || controlId.isEmpty() || controlId.length() > 20) {
            throw new IllegalArgumentException("MSH-10 must be 1 to 20 characters, got " + controlId);
        }
        String code = options.code(priority);
        String time = DTM.format(now);
        boolean ascii = Stream.of(order.patientId(), order.issuerOfPatientId(), order.accessionNumber(),
                        order.placerOrderNumber(), order.fillerOrderNumber(), order.requestedProcedureId(),
                        order.scheduledProcedureStepId(), options.sendingFacility(), options.receivingApplication(),
                        options.receivingFacility(), options.sendingApplication())
                .allMatch(s -> s.chars().allMatch(c -> c < 0x80));
        return switch (options.type()) {
            case ORM_O01 -> {
                ORM_O01 m = context.newMessage(ORM_O01.class);
                msh(m.getMSH(), controlId, time, ascii);
                pid(m.getPATIENT().getPID(), order);
                ORC orc = m.getORDER().getORC();
                orc(orc, order, time);
                orc.getQuantityTiming(0).getPriority().setValue(code);
                OBR obr = m.getORDER().getORDER_DETAIL().getOBR();
                obr(obr, order);
                // IHE Scheduled Workflow's ORM (v2.3.1, still what ORM-speaking RIS read): the accession number in
                // OBR-18 (placer field 1), the requested procedure in OBR-19, the scheduled step in OBR-20.
                set(obr.getPlacerField1(), order.accessionNumber());
                set(obr.getPlacerField2(), order.requestedProcedureId());
                set(obr.getFillerField1(), order.scheduledProcedureStepId());
                // HL7: when ORC-7 and OBR-27 are both valued they must agree.
                obr.getQuantityTiming(0).getPriority().setValue(code);
                yield m;
            }
            case OMI_O23 -> {
                OMI_O23 m = context.newMessage(OMI_O23.class);
                msh(m.getMSH(), controlId, time, ascii);
                pid(m.getPATIENT().getPID(), order);
                orc(m.getORDER().getORC(), order, time);
                TQ1 tq1 = m.getORDER().getTIMING().getTQ1();
                tq1.getSetIDTQ1().setValue("1");
                CWE p = tq1.getPriority(0);
                p.getIdentifier().setValue(code);
                set(p.getText(), PRIORITY_TEXT.getOrDefault(code, ""));
                p.getNameOfCodingSystem().setValue(PRIORITY_TABLE);
                obr(m.getORDER().getOBR(), order);
                IPC ipc = m.getORDER().getIPC();
                set(ipc.getAccessionIdentifier(), order.accessionNumber());
                set(ipc.getRequestedProcedureID(), order.requestedProcedureId());
                set(ipc.getStudyInstanceUID(), order.studyInstanceUid());
                set(ipc.getScheduledProcedureStepID(), order.scheduledProcedureStepId());
                CE modality = ipc.getModality();
                modality.getIdentifier().setValue(MODALITY_CT[0]);
                modality.getText().setValue(MODALITY_CT[1]);
                modality.getNameOfCodingSystem().setValue(MODALITY_CT[2]);
                yield m;
            }
        };
    }

    /** {@link #build} encoded as ER7 text. */
    public Encoded encode(OrderReference order, Priority priority, String controlId, OffsetDateTime now)
            throws HL7Exception {
        Message m = build(order, priority, controlId, now);
        String text = context.getPipeParser().encode(m);
        boolean utf8 = UTF_8.equals(((MSH) m.get("MSH")).getCharacterSet(0).getValue());
        return new Encoded(text, utf8 ? StandardCharsets.UTF_8 : StandardCharsets.US_ASCII, controlId);
    }

    private void msh(MSH msh, String controlId, String time, boolean ascii) throws HL7Exception {
        msh.getFieldSeparator().setValue("|");
        msh.getEncodingCharacters().setValue("^~\\&");
        msh.getSendingApplication().getNamespaceID().setValue(options.sendingApplication());
        set(msh.getSendingFacility().getNamespaceID(), options.sendingFacility());
        set(msh.getReceivingApplication().getNamespaceID(), options.receivingApplication());
        set(msh.getReceivingFacility().getNamespaceID(), options.receivingFacility());
        msh.getDateTimeOfMessage().getTime().setValue(time);
        msh.getMessageType().getMessageCode().setValue(options.type().code());
        msh.getMessageType().getTriggerEvent().setValue(options.type().trigger());
        msh.getMessageType().getMessageStructure().setValue(options.type().structure());
        msh.getMessageControlID().setValue(controlId);
        msh.getProcessingID().getProcessingID().setValue(options.processingId().name());
        msh.getVersionID().getVersionID().setValue(VERSION);
        // MSH-15/16 empty: original acknowledgement mode, the RIS answers with its application acknowledgement.
        if (!ascii) {
            msh.getCharacterSet(0).setValue(UTF_8);
        }
    }

    private static void pid(PID pid, OrderReference order) throws HL7Exception {
        pid.getSetIDPID().setValue("1");
        CX id = pid.getPatientIdentifierList(0);
        id.getIDNumber().setValue(order.patientId());
        set(id.getAssigningAuthority().getNamespaceID(), order.issuerOfPatientId());
    }

    private static void orc(ORC orc, OrderReference order, String time) throws HL7Exception {
        orc.getOrderControl().setValue(CHANGE_ORDER);
        set(orc.getPlacerOrderNumber(), order.placerOrderNumber());
        set(orc.getFillerOrderNumber(), order.fillerOrderNumber());
        orc.getDateTimeOfTransaction().getTime().setValue(time);
        orc.getOrderControlCodeReason().getText().setValue(REASON);
    }

    private static void obr(OBR obr, OrderReference order) throws HL7Exception {
        obr.getSetIDOBR().setValue("1");
        // HL7: OBR-2 and OBR-3 repeat ORC-2 and ORC-3.
        set(obr.getPlacerOrderNumber(), order.placerOrderNumber());
        set(obr.getFillerOrderNumber(), order.fillerOrderNumber());
    }

    private static void set(EI field, String value) throws HL7Exception {
        set(field.getEntityIdentifier(), value);
    }

    private static void set(ca.uhn.hl7v2.model.Primitive field, String value) throws HL7Exception {
        if (!value.isEmpty()) {
            field.setValue(value);
        }
    }
}
