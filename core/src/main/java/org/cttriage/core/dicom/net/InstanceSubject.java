package org.cttriage.core.dicom.net;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.TagFromName;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whose data a received instance is: the patient and study attributes an audit message names
 * (PS3.15 A.5.3.7). Patient data: observers use it for the audit trail only, never for a log line.
 *
 * @param studyInstanceUid Study Instance UID
 * @param patientId Patient ID
 * @param issuerOfPatientId Issuer of Patient ID
 * @param patientName Patient's Name as encoded ({@code ^}-separated components)
 * @param accessionNumber Accession Number
 */
public record InstanceSubject(String studyInstanceUid, String patientId, String issuerOfPatientId,
        String patientName, String accessionNumber) {

    /**
     * Reads the subject from a received file's data set, which starts at {@code dataSetOffset} in
     * {@code transferSyntaxUid}, stopping before the Series Instance UID: the patient and study
     * attributes come first (group 0008, 0010, then 0020,000D), so this reads a few kilobytes at most.
     * Empty when the data set cannot be parsed that far (the store handler refuses such an instance
     * anyway).
     */
    static Optional<InstanceSubject> read(Path file, long dataSetOffset, String transferSyntaxUid) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 16 * 1024)) {
            in.skipNBytes(dataSetOffset);
            AttributeList list = new AttributeList();
            list.read(new DicomInputStream(in, transferSyntaxUid, false), TagFromName.SeriesInstanceUID);
            return Optional.of(new InstanceSubject(
                    Attribute.getSingleStringValueOrEmptyString(list, TagFromName.StudyInstanceUID).trim(),
                    Attribute.getSingleStringValueOrEmptyString(list, TagFromName.PatientID).trim(),
                    Attribute.getSingleStringValueOrEmptyString(list, TagFromName.IssuerOfPatientID).trim(),
                    Attribute.getSingleStringValueOrEmptyString(list, TagFromName.PatientName).trim(),
                    Attribute.getSingleStringValueOrEmptyString(list, TagFromName.AccessionNumber).trim()));
        } catch (IOException | DicomException | RuntimeException | StackOverflowError e) {
            return Optional.empty();
        }
    }

    /** A compact form for test output, without patient data. */
    @Override
    public String toString() {
        return "InstanceSubject[study " + studyInstanceUid + "]";
    }
}
