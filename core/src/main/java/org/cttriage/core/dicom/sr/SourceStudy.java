package org.cttriage.core.dicom.sr;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomDictionary;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.TagFromName;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import org.cttriage.core.dicom.SliceHeader;

/**
 * What the SR copies from the analysed series: patient and study attributes (from one of
 * its instances; they are the same for all) and the instances it references.
 *
 * @param attributes patient/study attribute values by keyword, as found (empty when absent)
 * @param seriesInstanceUid the analysed series
 * @param instances  SOP Class and Instance UIDs referenced, ordered by SOP Instance UID
 */
public record SourceStudy(java.util.Map<String, String> attributes, String seriesInstanceUid,
                          List<ReferencedInstance> instances) {

    /** One referenced source instance. */
    public record ReferencedInstance(String sopClassUid, String sopInstanceUid) {
    }

    /** Patient and study attributes copied into the SR (PS3.3 Patient and General Study modules). */
    static final List<AttributeTag> COPIED = List.of(TagFromName.SpecificCharacterSet, TagFromName.PatientName,
            TagFromName.PatientID, TagFromName.IssuerOfPatientID, TagFromName.PatientBirthDate, TagFromName.PatientSex,
            TagFromName.StudyInstanceUID, TagFromName.StudyDate, TagFromName.StudyTime,
            TagFromName.ReferringPhysicianName, TagFromName.StudyID, TagFromName.AccessionNumber,
            TagFromName.StudyDescription);

    /**
     * The Imaging Service Request the study was made for, as the modality copied it from the worklist into the
     * first item of the Request Attributes Sequence (0040,0275) (PS3.3 10.6, Request Attributes Macro): what the
     * RIS knows the order by, beside the Accession Number. Recorded for the exporters, never copied into the SR. The
     * macro has Requested Procedure ID and Scheduled Procedure Step ID; the Placer and Filler Order Numbers of the
     * Imaging Service Request are not in it, but modalities that copy them put them there or at the top level, so
     * both places are read (the item first).
     */
    static final List<AttributeTag> REQUEST = List.of(TagFromName.RequestedProcedureID,
            DicomDictionary.StandardDictionary.getTagFromName("ScheduledProcedureStepID"),
            TagFromName.PlacerOrderNumberImagingServiceRequest, TagFromName.FillerOrderNumberImagingServiceRequest);

    /** The source series' Frame of Reference module, which the SEG shares. */
    static final List<AttributeTag> FRAME_OF_REFERENCE = List.of(TagFromName.FrameOfReferenceUID,
            DicomDictionary.StandardDictionary.getTagFromName("PositionReferenceIndicator"));

    public SourceStudy {
        attributes = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(attributes));
        instances = instances.stream().distinct()
                .sorted(Comparator.comparing(ReferencedInstance::sopInstanceUid)).toList();
    }

    /** Reads the study attributes from the first slice's file and references every slice's instance. */
    public static SourceStudy of(List<SliceHeader> slices) throws IOException, DicomException {
        AttributeList list = new AttributeList();
        list.read(slices.get(0).file().toString(), TagFromName.PixelData);
        java.util.Map<String, String> values = new java.util.LinkedHashMap<>();
        for (AttributeTag t : COPIED) {
            values.put(AttributeList.getDictionary().getNameFromTag(t),
                    Attribute.getDelimitedStringValuesOrEmptyString(list, t));
        }
        values.putAll(request(list));
        // Where the series lies (never copied into the SR, which has no Frame of Reference module): the SEG's frame of
        // reference and the SR's SCOORD3D points are on it.
        for (AttributeTag t : FRAME_OF_REFERENCE) {
            values.put(AttributeList.getDictionary().getNameFromTag(t), Attribute.getSingleStringValueOrEmptyString(list, t));
        }
        return new SourceStudy(values, slices.get(0).seriesInstanceUid(), slices.stream()
                .map(s -> new ReferencedInstance(s.sopClassUid(), s.sopInstanceUid())).toList());
    }

    /**
     * The patient and study attributes an SR written by {@link TriageSrWriter} carries (it copied
     * them from its source), read from the SR file up to its content tree; no instances.
     */
    public static SourceStudy ofSr(Path srFile) throws IOException, DicomException {
        AttributeList list = new AttributeList();
        list.read(srFile.toString(), TagFromName.ContentSequence);
        java.util.Map<String, String> values = new java.util.LinkedHashMap<>();
        for (AttributeTag t : COPIED) {
            values.put(AttributeList.getDictionary().getNameFromTag(t),
                    Attribute.getDelimitedStringValuesOrEmptyString(list, t));
        }
        return new SourceStudy(values, Attribute.getSingleStringValueOrEmptyString(list, TagFromName.SeriesInstanceUID),
                List.of());
    }

    /** {@link #REQUEST}'s values by keyword, "" when absent: from the first Request Attributes item, else the top level. */
    static java.util.Map<String, String> request(AttributeList list) {
        AttributeList item = null;
        if (list.get(TagFromName.RequestAttributesSequence) instanceof SequenceAttribute s && s.getNumberOfItems() > 0) {
            item = s.getItem(0).getAttributeList();
        }
        java.util.Map<String, String> values = new java.util.LinkedHashMap<>();
        for (AttributeTag t : REQUEST) {
            String v = item == null ? "" : Attribute.getDelimitedStringValuesOrEmptyString(item, t).trim();
            if (v.isEmpty()) {
                v = Attribute.getDelimitedStringValuesOrEmptyString(list, t).trim();
            }
            values.put(AttributeList.getDictionary().getNameFromTag(t), v);
        }
        return values;
    }

    /** A copied attribute's value, "" when absent. */
    public String get(String keyword) {
        return attributes.getOrDefault(keyword, "");
    }
}
