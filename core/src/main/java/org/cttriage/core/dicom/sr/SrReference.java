package org.cttriage.core.dicom.sr;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.TagFromName;
import java.io.IOException;
import java.nio.file.Path;

/**
 * What names an SR the node wrote, for a reference to it from elsewhere (a UPS workitem's Input Information
 * Sequence): read from the file's header, up to its content tree.
 *
 * @param studyInstanceUid the study it belongs to (the source study's)
 * @param seriesInstanceUid its series
 * @param sopClassUid its SOP Class (Comprehensive 3D SR)
 * @param sopInstanceUid its SOP Instance UID
 */
public record SrReference(String studyInstanceUid, String seriesInstanceUid, String sopClassUid, String sopInstanceUid) {
    /** Reads {@code srFile}'s identifying attributes. */
    public static SrReference read(Path srFile) throws IOException, DicomException {
        AttributeList list = new AttributeList();
        list.read(srFile.toString(), TagFromName.ContentSequence);
        return new SrReference(Attribute.getSingleStringValueOrEmptyString(list, TagFromName.StudyInstanceUID),
                Attribute.getSingleStringValueOrEmptyString(list, TagFromName.SeriesInstanceUID),
                Attribute.getSingleStringValueOrEmptyString(list, TagFromName.SOPClassUID),
                Attribute.getSingleStringValueOrEmptyString(list, TagFromName.SOPInstanceUID));
    }
}
