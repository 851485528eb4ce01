package org.cttriage.core.dicom.sr;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.SpecificCharacterSet;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.cttriage.core.domain.CodedConcept;

/**
 * What the SR, the SEG and the KOS share: the patient and study attributes copied from the source
 * (so all three land in the source study), attribute helpers and the atomic write.
 */
final class DerivedObjects {
    private DerivedObjects() {
    }

    /** Specific Character Set first (values after it are encoded with it), then every copied patient/study attribute. */
    static void copyPatientAndStudy(AttributeList list, SourceStudy source) throws DicomException {
        String charset = source.get("SpecificCharacterSet");
        if (!charset.isEmpty()) {
            put(list, TagFromName.SpecificCharacterSet, charset.split("\\\\"));
        }
        for (AttributeTag t : SourceStudy.COPIED) {
            if (t.equals(TagFromName.SpecificCharacterSet)) {
                continue;
            }
            String value = source.get(AttributeList.getDictionary().getNameFromTag(t));
            if (!value.isEmpty() || isType2(t)) {
                put(list, t, value);
            }
        }
    }

    /** Content Date and Time are the study's, so that the same input always gives the same bytes. */
    static void contentDateTime(AttributeList list, SourceStudy source) throws DicomException {
        put(list, TagFromName.ContentDate, source.get("StudyDate").isEmpty() ? "19000101" : source.get("StudyDate"));
        put(list, TagFromName.ContentTime, source.get("StudyTime").isEmpty() ? "000000" : source.get("StudyTime"));
    }

    static boolean isType2(AttributeTag t) {
        return t.equals(TagFromName.PatientName) || t.equals(TagFromName.PatientID) || t.equals(TagFromName.PatientBirthDate)
                || t.equals(TagFromName.PatientSex) || t.equals(TagFromName.StudyDate) || t.equals(TagFromName.StudyTime)
                || t.equals(TagFromName.ReferringPhysicianName) || t.equals(TagFromName.StudyID)
                || t.equals(TagFromName.AccessionNumber);
    }

    /** Puts a string-valued attribute, encoded with the list's Specific Character Set. */
    static void put(AttributeList list, AttributeTag tag, String... values) throws DicomException {
        Attribute scs = list.get(TagFromName.SpecificCharacterSet);
        Attribute a = list.putNewAttribute(tag, scs == null ? null : new SpecificCharacterSet(Attribute.getStringValues(scs)));
        for (String v : values) {
            a.addValue(v);
        }
    }

    /** A code sequence of one item. */
    static SequenceAttribute codeSequence(AttributeTag tag, CodedConcept code) throws DicomException {
        SequenceAttribute s = new SequenceAttribute(tag);
        s.addItem(SrCodes.item(code).getAttributeList());
        return s;
    }

    /** A sequence of one item. */
    static SequenceAttribute sequence(AttributeTag tag, AttributeList item) {
        SequenceAttribute s = new SequenceAttribute(tag);
        s.addItem(item);
        return s;
    }

    /** Writes {@code list} to {@code file} via a temporary file and a rename. */
    static void write(AttributeList list, Path file) throws DicomException, IOException {
        Path part = file.resolveSibling(file.getFileName() + ".part");
        list.write(part.toFile(), TransferSyntax.ExplicitVRLittleEndian, true, true);
        Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
