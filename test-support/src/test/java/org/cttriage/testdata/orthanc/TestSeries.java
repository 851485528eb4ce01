package org.cttriage.testdata.orthanc;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.CodedSequenceItem;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.DeterministicUids;

/** Small DICOM inputs for the Orthanc tests: a 64×64×20 CT series and an SR in its study. */
final class TestSeries {
    static final int SLICES = 20;

    private TestSeries() {
    }

    static CtSeriesWriter.WrittenSeries ct(long seed, Path folder) throws IOException {
        return PhantomSeries.write(seed, 64, SLICES, 18, folder);
    }

    /**
     * A Basic Text SR in the CT's study, written to {@code file}: enough for a PACS to file it as an
     * SR series (Orthanc does not validate content). Returns its Series Instance UID.
     */
    static String srInStudyOf(CtSeriesWriter.WrittenSeries ct, long seed, Path file) throws IOException {
        try {
            AttributeList source = new AttributeList();
            source.read(ct.files().get(0).toFile());
            AttributeList sr = new AttributeList();
            for (AttributeTag t : List.of(TagFromName.PatientName, TagFromName.PatientID, TagFromName.PatientBirthDate,
                    TagFromName.PatientSex, TagFromName.StudyInstanceUID, TagFromName.StudyDate,
                    TagFromName.StudyTime, TagFromName.StudyID, TagFromName.AccessionNumber,
                    TagFromName.ReferringPhysicianName)) {
                Attribute a = source.get(t);
                if (a != null) {
                    sr.put(a);
                }
            }
            String seriesUid = DeterministicUids.uid(seed, "orthanc-test/sr-series");
            put(sr, TagFromName.SOPClassUID, SOPClass.BasicTextSRStorage);
            put(sr, TagFromName.SOPInstanceUID, DeterministicUids.uid(seed, "orthanc-test/sr-instance"));
            put(sr, TagFromName.SeriesInstanceUID, seriesUid);
            put(sr, TagFromName.Modality, "SR");
            put(sr, TagFromName.SeriesNumber, "900");
            put(sr, TagFromName.InstanceNumber, "1");
            put(sr, TagFromName.Manufacturer, "ct-triage tests");
            put(sr, TagFromName.ContentDate, source.get(TagFromName.StudyDate).getSingleStringValueOrEmptyString());
            put(sr, TagFromName.ContentTime, "090000");
            put(sr, TagFromName.ValueType, "CONTAINER");
            put(sr, TagFromName.ContinuityOfContent, "SEPARATE");
            put(sr, TagFromName.CompletionFlag, "COMPLETE");
            put(sr, TagFromName.VerificationFlag, "UNVERIFIED");
            SequenceAttribute title = new SequenceAttribute(TagFromName.ConceptNameCodeSequence);
            title.addItem(new CodedSequenceItem("18748-4", "LN", "Diagnostic imaging report").getAttributeList());
            sr.put(title);
            sr.put(new SequenceAttribute(TagFromName.ContentSequence));
            FileMetaInformation.addFileMetaInformation(sr, TransferSyntax.ExplicitVRLittleEndian, "CTTRIAGE_TEST");
            sr.write(file.toFile(), TransferSyntax.ExplicitVRLittleEndian, true, true);
            return seriesUid;
        } catch (DicomException e) {
            throw new IOException("cannot build the test SR: " + e.getMessage(), e);
        }
    }

    /** storescu's command line sending {@code files} to {@code orthanc} as calling AE {@code callingAet}. */
    static List<String> storescu(OrthancServer orthanc, String callingAet, List<Path> files) {
        List<String> command = new ArrayList<>(List.of("storescu", "--aetitle", callingAet, "--call", orthanc.aet(),
                orthanc.host(), Integer.toString(orthanc.dicomPort())));
        files.forEach(f -> command.add(f.toString()));
        return command;
    }

    private static void put(AttributeList list, AttributeTag tag, String value) throws DicomException {
        list.putNewAttribute(tag).addValue(value);
    }
}
