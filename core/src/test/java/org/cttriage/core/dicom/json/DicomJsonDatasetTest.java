package org.cttriage.core.dicom.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The DICOM JSON Model as PS3.18 F.2 writes it, with tags and VRs from the dictionary. */
class DicomJsonDatasetTest {
    @Test
    void writesTagsAsEightHexDigitsWithVrAndValueInTagOrder() throws Exception {
        DicomJsonDataset d = new DicomJsonDataset()
                .put("ScheduledProcedureStepPriority", "HIGH")
                .putPersonName("PatientName", "")
                .put("PatientID", "PAT-1")
                .putSequence("ReferencedRequestSequence", new DicomJsonDataset().put("AccessionNumber", "A1"))
                .putSequence("ScheduledStationNameCodeSequence", List.of());
        String json = new ObjectMapper().writeValueAsString(d.toJson());
        assertThat(json).isEqualTo("{\"00100010\":{\"vr\":\"PN\"},\"00100020\":{\"vr\":\"LO\",\"Value\":[\"PAT-1\"]},"
                + "\"00404025\":{\"vr\":\"SQ\"},\"0040A370\":{\"vr\":\"SQ\",\"Value\":[{\"00080050\":{\"vr\":\"SH\","
                + "\"Value\":[\"A1\"]}}]},\"00741200\":{\"vr\":\"CS\",\"Value\":[\"HIGH\"]}}");
        Map<?, ?> back = new ObjectMapper().readValue(json, Map.class);
        assertThat(DicomJsonDataset.firstString(back, "ScheduledProcedureStepPriority")).contains("HIGH");
        assertThat(DicomJsonDataset.firstString(back, "PatientName")).isEmpty();
        assertThat(DicomJsonDataset.items(back, "ReferencedRequestSequence")).singleElement()
                .satisfies(i -> assertThat(DicomJsonDataset.firstString(i, "AccessionNumber")).contains("A1"));
    }

    @Test
    void refusesUnknownKeywordsAndTheWrongKindOfValue() {
        assertThatThrownBy(() -> new DicomJsonDataset().put("NoSuchAttribute", "x")).hasMessageContaining("NoSuchAttribute");
        assertThatThrownBy(() -> new DicomJsonDataset().put("PatientName", "x")).hasMessageContaining("PN");
        assertThatThrownBy(() -> new DicomJsonDataset().put("InputInformationSequence", "x")).hasMessageContaining("SQ");
        assertThat(DicomJsonDataset.tag("ProcedureStepState")).isEqualTo("00741000");
        assertThat(DicomJsonDataset.vr("ScheduledProcedureStepStartDateTime")).isEqualTo("DT");
    }
}
