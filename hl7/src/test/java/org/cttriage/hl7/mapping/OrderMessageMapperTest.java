package org.cttriage.hl7.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.v251.message.OMI_O23;
import ca.uhn.hl7v2.model.v251.message.ORM_O01;
import ca.uhn.hl7v2.model.v251.segment.IPC;
import ca.uhn.hl7v2.model.v251.segment.MSH;
import ca.uhn.hl7v2.model.v251.segment.OBR;
import ca.uhn.hl7v2.model.v251.segment.ORC;
import ca.uhn.hl7v2.model.v251.segment.PID;
import ca.uhn.hl7v2.model.v251.segment.TQ1;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.EnumMap;
import java.util.Map;
import org.cttriage.core.domain.Priority;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The order message, parsed back with HAPI: every field of docs/hl7-mapping.md, for ORM^O01 and OMI^O23. */
class OrderMessageMapperTest {
    private static final OffsetDateTime NOW = OffsetDateTime.of(2026, 3, 14, 9, 26, 53, 0, ZoneOffset.ofHours(1));
    private static final OrderReference ORDER = new OrderReference("PAT-123", "HOSP-A", "ACC0042", "PL-778",
            "FI-991", "RP-5", "SPS-5.1", "1.2.826.0.1.3680043.10.1");
    private static final HapiContext HAPI = new DefaultHapiContext();

    @AfterAll
    static void close() throws Exception {
        HAPI.close();
    }

    private static OrderMessageOptions options(MessageType type) {
        return new OrderMessageOptions(type, "CTTRIAGE", "RADIOLOGY", "RIS", "HOSPITAL", ProcessingId.P,
                OrderMessageOptions.DEFAULT_PRIORITY_CODES);
    }

    private static Message parse(OrderMessageMapper.Encoded e) throws Exception {
        return HAPI.getPipeParser().parse(e.text());
    }

    @Test
    void ormO01ChangesTheOrdersPriorityInOrc7AndObr27() throws Exception {
        OrderMessageMapper.Encoded e = new OrderMessageMapper(options(MessageType.ORM_O01))
                .encode(ORDER, Priority.STAT, "0123456789ABCDEF0123", NOW);
        assertThat(e.charset()).isEqualTo(StandardCharsets.US_ASCII);
        assertThat(e.controlId()).isEqualTo("0123456789ABCDEF0123");
        ORM_O01 m = (ORM_O01) parse(e);

        MSH msh = m.getMSH();
        assertThat(msh.getSendingApplication().getNamespaceID().getValue()).isEqualTo("CTTRIAGE");
        assertThat(msh.getSendingFacility().getNamespaceID().getValue()).isEqualTo("RADIOLOGY");
        assertThat(msh.getReceivingApplication().getNamespaceID().getValue()).isEqualTo("RIS");
        assertThat(msh.getReceivingFacility().getNamespaceID().getValue()).isEqualTo("HOSPITAL");
        assertThat(msh.getDateTimeOfMessage().getTime().getValue()).isEqualTo("20260314092653+0100");
        assertThat(msh.getMessageType().encode()).isEqualTo("ORM^O01^ORM_O01");
        assertThat(msh.getMessageControlID().getValue()).isEqualTo("0123456789ABCDEF0123");
        assertThat(msh.getProcessingID().getProcessingID().getValue()).isEqualTo("P");
        assertThat(msh.getVersionID().getVersionID().getValue()).isEqualTo("2.5.1");
        assertThat(msh.getAcceptAcknowledgmentType().getValue()).as("original acknowledgement mode").isNull();
        assertThat(msh.getApplicationAcknowledgmentType().getValue()).isNull();
        assertThat(msh.getCharacterSet(0).getValue()).as("ASCII: HL7 v2's default, not declared").isNull();

        PID pid = m.getPATIENT().getPID();
        assertThat(pid.getPatientIdentifierList(0).getIDNumber().getValue()).isEqualTo("PAT-123");
        assertThat(pid.getPatientIdentifierList(0).getAssigningAuthority().getNamespaceID().getValue())
                .isEqualTo("HOSP-A");
        assertThat(pid.getPatientName(0).encode()).as("unknown to the node: not sent, kept by the RIS").isEmpty();

        ORC orc = m.getORDER().getORC();
        assertThat(orc.getOrderControl().getValue()).isEqualTo("XO");
        assertThat(orc.getPlacerOrderNumber().getEntityIdentifier().getValue()).isEqualTo("PL-778");
        assertThat(orc.getFillerOrderNumber().getEntityIdentifier().getValue()).isEqualTo("FI-991");
        assertThat(orc.getQuantityTiming(0).getPriority().getValue()).isEqualTo("S");
        assertThat(orc.getDateTimeOfTransaction().getTime().getValue()).isEqualTo("20260314092653+0100");
        assertThat(orc.getOrderControlCodeReason().getText().getValue()).contains("ct-triage");
        assertThat(orc.getOrderStatus().getValue()).as("the order's status is not ours to change").isNull();

        OBR obr = m.getORDER().getORDER_DETAIL().getOBR();
        assertThat(obr.getSetIDOBR().getValue()).isEqualTo("1");
        assertThat(obr.getPlacerOrderNumber().getEntityIdentifier().getValue()).isEqualTo("PL-778");
        assertThat(obr.getFillerOrderNumber().getEntityIdentifier().getValue()).isEqualTo("FI-991");
        assertThat(obr.getPlacerField1().getValue()).as("accession number, IHE SWF").isEqualTo("ACC0042");
        assertThat(obr.getPlacerField2().getValue()).as("requested procedure ID").isEqualTo("RP-5");
        assertThat(obr.getFillerField1().getValue()).as("scheduled procedure step ID").isEqualTo("SPS-5.1");
        assertThat(obr.getQuantityTiming(0).getPriority().getValue()).isEqualTo("S");
        assertThat(e.text()).as("no HL7 null: that would delete values at the RIS").doesNotContain("\"\"")
                .doesNotContain("TQ1").doesNotContain("IPC");
    }

    @Test
    void omiO23ChangesTheOrdersPriorityInTq1AndNamesTheStudyInIpc() throws Exception {
        OrderMessageMapper.Encoded e = new OrderMessageMapper(options(MessageType.OMI_O23))
                .encode(ORDER, Priority.ASAP, "CTRL1", NOW);
        OMI_O23 m = (OMI_O23) parse(e);
        assertThat(m.getMSH().getMessageType().encode()).isEqualTo("OMI^O23^OMI_O23");
        assertThat(m.getMSH().getVersionID().getVersionID().getValue()).isEqualTo("2.5.1");
        assertThat(m.getPATIENT().getPID().getPatientIdentifierList(0).getIDNumber().getValue()).isEqualTo("PAT-123");

        ORC orc = m.getORDER().getORC();
        assertThat(orc.getOrderControl().getValue()).isEqualTo("XO");
        assertThat(orc.getPlacerOrderNumber().getEntityIdentifier().getValue()).isEqualTo("PL-778");
        assertThat(orc.getFillerOrderNumber().getEntityIdentifier().getValue()).isEqualTo("FI-991");
        assertThat(orc.getQuantityTiming(0).encode()).as("TQ1 replaces ORC-7 in v2.5").isEmpty();

        TQ1 tq1 = m.getORDER().getTIMING().getTQ1();
        assertThat(tq1.getSetIDTQ1().getValue()).isEqualTo("1");
        assertThat(tq1.getPriority(0).encode()).isEqualTo("A^ASAP^HL70485");

        OBR obr = m.getORDER().getOBR();
        assertThat(obr.getPlacerOrderNumber().getEntityIdentifier().getValue()).isEqualTo("PL-778");
        assertThat(obr.getFillerOrderNumber().getEntityIdentifier().getValue()).isEqualTo("FI-991");
        assertThat(obr.getQuantityTiming(0).encode()).isEmpty();

        IPC ipc = m.getORDER().getIPC();
        assertThat(ipc.getAccessionIdentifier().getEntityIdentifier().getValue()).isEqualTo("ACC0042");
        assertThat(ipc.getRequestedProcedureID().getEntityIdentifier().getValue()).isEqualTo("RP-5");
        assertThat(ipc.getStudyInstanceUID().getEntityIdentifier().getValue()).isEqualTo("1.2.826.0.1.3680043.10.1");
        assertThat(ipc.getScheduledProcedureStepID().getEntityIdentifier().getValue()).isEqualTo("SPS-5.1");
        assertThat(ipc.getModality().encode()).isEqualTo("CT^Computed Tomography^DCM");
        assertThat(e.text()).doesNotContain("\"\"");
    }

    @ParameterizedTest
    @EnumSource(Priority.class)
    void everyPriorityMapsToTable0027InBothMessages(Priority priority) throws Exception {
        String expected = Map.of(Priority.ROUTINE, "R", Priority.URGENT, "A", Priority.ASAP, "A", Priority.STAT, "S")
                .get(priority);
        ORM_O01 orm = (ORM_O01) parse(new OrderMessageMapper(options(MessageType.ORM_O01))
                .encode(ORDER, priority, "C", NOW));
        assertThat(orm.getORDER().getORC().getQuantityTiming(0).getPriority().getValue()).isEqualTo(expected);
        assertThat(orm.getORDER().getORDER_DETAIL().getOBR().getQuantityTiming(0).getPriority().getValue())
                .isEqualTo(expected);
        OMI_O23 omi = (OMI_O23) parse(new OrderMessageMapper(options(MessageType.OMI_O23))
                .encode(ORDER, priority, "C", NOW));
        assertThat(omi.getORDER().getTIMING().getTQ1().getPriority(0).getIdentifier().getValue()).isEqualTo(expected);
    }

    @Test
    void aSiteMapsPrioritiesToItsOwnCodes() throws Exception {
        Map<Priority, String> codes = new EnumMap<>(OrderMessageOptions.DEFAULT_PRIORITY_CODES);
        codes.put(Priority.URGENT, "TH4");
        OrderMessageOptions o = new OrderMessageOptions(MessageType.OMI_O23, "CTTRIAGE", "", "", "", ProcessingId.T,
                codes);
        OMI_O23 m = (OMI_O23) parse(new OrderMessageMapper(o).encode(ORDER, Priority.URGENT, "C", NOW));
        assertThat(m.getORDER().getTIMING().getTQ1().getPriority(0).encode()).isEqualTo("TH4^^HL70485");
        assertThat(m.getMSH().getProcessingID().getProcessingID().getValue()).isEqualTo("T");
        assertThat(m.getMSH().getSendingFacility().encode()).isEmpty();
        assertThat(m.getMSH().getReceivingApplication().encode()).isEmpty();

        assertThatThrownBy(() -> new OrderMessageOptions(MessageType.ORM_O01, "CTTRIAGE", "", "", "", ProcessingId.P,
                Map.of(Priority.ROUTINE, "R", Priority.URGENT, "U", Priority.ASAP, "A", Priority.STAT, "S")))
                .hasMessageContaining("urgent").hasMessageContaining("0485");
        assertThatThrownBy(() -> new OrderMessageOptions(MessageType.ORM_O01, "CT|TRIAGE", "", "", "", ProcessingId.P,
                OrderMessageOptions.DEFAULT_PRIORITY_CODES)).hasMessageContaining("delimiters");
    }

    @Test
    void anOrderWithoutOrderNumbersIsFoundByItsAccessionNumberAlone() throws Exception {
        OrderReference accessionOnly = new OrderReference("PAT-123", "", "ACC0042", "", "", "", "", "1.2.3");
        ORM_O01 orm = (ORM_O01) parse(new OrderMessageMapper(options(MessageType.ORM_O01))
                .encode(accessionOnly, Priority.STAT, "C", NOW));
        assertThat(orm.getORDER().getORC().getPlacerOrderNumber().encode()).isEmpty();
        assertThat(orm.getORDER().getORC().getFillerOrderNumber().encode()).isEmpty();
        assertThat(orm.getORDER().getORDER_DETAIL().getOBR().getPlacerField1().getValue()).isEqualTo("ACC0042");
        assertThat(orm.getPATIENT().getPID().getPatientIdentifierList(0).encode()).isEqualTo("PAT-123");

        assertThatThrownBy(() -> new OrderMessageMapper(options(MessageType.ORM_O01))
                .build(new OrderReference("PAT-123", "", " ", "", "", "", "", "1.2.3"), Priority.STAT, "C", NOW))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("no accession number: the RIS order cannot be found");
        assertThatThrownBy(() -> new OrderMessageMapper(options(MessageType.ORM_O01))
                .build(new OrderReference("", "", "ACC1", "", "", "", "", "1.2.3"), Priority.STAT, "C", NOW))
                .hasMessageContaining("no patient ID");
    }

    @Test
    void delimitersInValuesAreEscapedAndNonAsciiIsSentAsUtf8() throws Exception {
        OrderReference odd = new OrderReference("PAT|1^2", "Hôpital Saint-Éloi", "ACC~7&8", "", "", "", "", "1.2.3");
        OrderMessageMapper.Encoded e = new OrderMessageMapper(options(MessageType.OMI_O23))
                .encode(odd, Priority.STAT, "C", NOW);
        assertThat(e.charset()).isEqualTo(StandardCharsets.UTF_8);
        OMI_O23 m = (OMI_O23) parse(e);
        assertThat(m.getMSH().getCharacterSet(0).getValue()).isEqualTo("UNICODE UTF-8");
        assertThat(m.getPATIENT().getPID().getPatientIdentifierList(0).getIDNumber().getValue()).isEqualTo("PAT|1^2");
        assertThat(m.getPATIENT().getPID().getPatientIdentifierList(0).getAssigningAuthority().getNamespaceID()
                .getValue()).isEqualTo("Hôpital Saint-Éloi");
        assertThat(m.getORDER().getIPC().getAccessionIdentifier().getEntityIdentifier().getValue())
                .isEqualTo("ACC~7&8");
        assertThat(new String(e.bytes(), StandardCharsets.UTF_8)).isEqualTo(e.text());
    }
}
