package org.cttriage.core.dicom.sr;

import static org.assertj.core.api.Assertions.assertThat;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomDictionary;
import com.pixelmed.dicom.LongStringAttribute;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.ShortStringAttribute;
import com.pixelmed.dicom.TagFromName;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The order's identifiers the exporters need, from the Request Attributes Sequence or the top level. */
class SourceStudyRequestTest {
    @Test
    void theFirstRequestAttributesItemNamesTheOrderAndTheTopLevelFillsWhatItLacks() throws Exception {
        AttributeList item = new AttributeList();
        put(item, new ShortStringAttribute(TagFromName.RequestedProcedureID), "RP-5");
        put(item, new ShortStringAttribute(DicomDictionary.StandardDictionary.getTagFromName("ScheduledProcedureStepID")),
                "SPS-5.1");
        put(item, new LongStringAttribute(TagFromName.PlacerOrderNumberImagingServiceRequest), "PL-778 ");
        AttributeList second = new AttributeList();
        put(second, new ShortStringAttribute(TagFromName.RequestedProcedureID), "RP-6");
        SequenceAttribute request = new SequenceAttribute(TagFromName.RequestAttributesSequence);
        request.addItem(item);
        request.addItem(second);
        AttributeList image = new AttributeList();
        image.put(request);
        put(image, new LongStringAttribute(TagFromName.FillerOrderNumberImagingServiceRequest), "FI-991");
        put(image, new LongStringAttribute(TagFromName.PlacerOrderNumberImagingServiceRequest), "IGNORED");

        assertThat(SourceStudy.request(image)).containsAllEntriesOf(Map.of(
                "RequestedProcedureID", "RP-5", "ScheduledProcedureStepID", "SPS-5.1",
                "PlacerOrderNumberImagingServiceRequest", "PL-778",
                "FillerOrderNumberImagingServiceRequest", "FI-991"));
    }

    @Test
    void aStudyWithoutRequestAttributesGivesEmptyValues() {
        assertThat(SourceStudy.request(new AttributeList())).containsOnlyKeys("RequestedProcedureID",
                "ScheduledProcedureStepID", "PlacerOrderNumberImagingServiceRequest",
                "FillerOrderNumberImagingServiceRequest").allSatisfy((k, v) -> assertThat(v).isEmpty());
    }

    private static void put(AttributeList list, com.pixelmed.dicom.Attribute a, String value) throws Exception {
        a.addValue(value);
        list.put(a);
    }
}
