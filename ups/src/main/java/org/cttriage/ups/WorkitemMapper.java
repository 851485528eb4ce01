package org.cttriage.ups;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.cttriage.core.dicom.json.DicomJsonDataset;
import org.cttriage.core.dicom.sr.SrReference;
import org.cttriage.core.domain.Priority;

/**
 * A study's reading as a Unified Procedure Step workitem (PS3.3 C.30 Unified Procedure Step IOD, PS3.4 Annex CC),
 * in the DICOM JSON Model: pure, no I/O. What each attribute holds and why: docs/ups-mapping.md.
 *
 * <p>The workitem is the radiologist's reading of the study (Scheduled Workitem Code (110005, DCM, "Interpretation"),
 * PS3.16 CID 9231), scheduled with the study's priority; its input is the node's SR (Input Information Sequence),
 * which references the analysed series itself; the order it belongs to is in the Referenced Request Sequence.
 */
public final class WorkitemMapper {
    /** DT as PS3.5 writes it, with the offset from UTC. */
    private static final DateTimeFormatter DT = DateTimeFormatter.ofPattern("yyyyMMddHHmmssZ");
    /** The task the workitem asks for: (110005, DCM, "Interpretation"), PS3.16 CID 9231 Workitem Definition. */
    static final String[] INTERPRETATION = {"110005", "DCM", "Interpretation"};
    /** Procedure Step Label (0074,1204): no patient data, the same for every workitem. */
    static final String LABEL = "CT reading, AI triage priority (ct-triage)";

    private final UpsOptions options;

    public WorkitemMapper(UpsOptions options) {
        this.options = options;
    }

    /**
     * The workitem's SOP Instance UID: derived from the Study Instance UID alone (a UUID-derived UID, PS3.5 B.2, of a
     * name-based UUID), so that every attempt and every result of the study names the same workitem and a create
     * repeated after a lost answer meets 409 instead of making a second one.
     */
    public static String workitemUid(String studyInstanceUid) {
        UUID u = UUID.nameUUIDFromBytes(("ct-triage UPS reading workitem " + studyInstanceUid)
                .getBytes(StandardCharsets.US_ASCII));
        ByteBuffer b = ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
        return "2.25." + new BigInteger(1, b.array());
    }

    /** The create (N-CREATE) data set of a study's workitem, Procedure Step State SCHEDULED. */
    public DicomJsonDataset create(String studyInstanceUid, Map<String, String> source, SrReference sr,
            Priority priority, List<String> causes, OffsetDateTime now) {
        DicomJsonDataset d = new DicomJsonDataset()
                .put("SpecificCharacterSet", "ISO_IR 192")
                // UPS Scheduled Procedure Information Module
                .put("ScheduledProcedureStepPriority", options.priorities().get(priority).name())
                .put("ProcedureStepLabel", LABEL)
                .putSequence("ScheduledStationNameCodeSequence", List.of())
                .putSequence("ScheduledStationClassCodeSequence", List.of())
                .putSequence("ScheduledStationGeographicLocationCodeSequence", List.of())
                .put("ScheduledProcedureStepStartDateTime", DT.format(now))
                .putSequence("ScheduledWorkitemCodeSequence", code(INTERPRETATION))
                .put("CommentsOnTheScheduledProcedureStep", comment(priority, causes))
                .put("InputReadinessState", "READY")
                .putSequence("InputInformationSequence", input(sr))
                .put("StudyInstanceUID", studyInstanceUid)
                // UPS Relationship Module: the patient as the study names it; the name and the rest are not recorded
                // by the node (Type 2: sent empty)
                .putPersonName("PatientName", "")
                .put("PatientID", source.getOrDefault("PatientID", ""))
                .put("IssuerOfPatientID", source.getOrDefault("IssuerOfPatientID", ""))
                .put("PatientBirthDate")
                .put("PatientSex")
                .put("AdmissionID")
                .putSequence("IssuerOfAdmissionIDSequence", List.of())
                .put("AdmittingDiagnosesDescription")
                .putSequence("AdmittingDiagnosesCodeSequence", List.of())
                .putSequence("ReferencedRequestSequence", request(studyInstanceUid, source))
                // UPS Progress Information Module
                .put("ProcedureStepState", "SCHEDULED");
        if (!options.worklistLabel().isEmpty()) {
            d.put("WorklistLabel", options.worklistLabel());
        }
        return d;
    }

    /** The Input Information Sequence's one item: the SR, retrievable by DICOM from {@code ups.retrieve-ae-title}. */
    public DicomJsonDataset input(SrReference sr) {
        return new DicomJsonDataset()
                .put("TypeOfInstances", "DICOM")
                .put("StudyInstanceUID", sr.studyInstanceUid())
                .put("SeriesInstanceUID", sr.seriesInstanceUid())
                .putSequence("ReferencedSOPSequence", new DicomJsonDataset()
                        .put("ReferencedSOPClassUID", sr.sopClassUid())
                        .put("ReferencedSOPInstanceUID", sr.sopInstanceUid()))
                .putSequence("DICOMRetrievalSequence", new DicomJsonDataset()
                        .put("RetrieveAETitle", options.retrieveAeTitle()));
    }

    /** The comment the reader sees: the priority and what caused it; no patient data. */
    static String comment(Priority priority, List<String> causes) {
        return "Suggested reading priority " + priority.fhirCode() + (causes.isEmpty() ? "" : " ("
                + String.join(", ", causes) + ")") + " from an AI triage model (ct-triage); not a clinical device.";
    }

    /** The Referenced Request Sequence: the order, when the study names one (no accession number: empty). */
    static List<DicomJsonDataset> request(String studyInstanceUid, Map<String, String> source) {
        String accession = source.getOrDefault("AccessionNumber", "");
        if (accession.isEmpty()) {
            return List.of();
        }
        DicomJsonDataset item = new DicomJsonDataset()
                .put("StudyInstanceUID", studyInstanceUid)
                .put("AccessionNumber", accession)
                .putSequence("IssuerOfAccessionNumberSequence", List.of())
                .put("RequestedProcedureID", source.getOrDefault("RequestedProcedureID", ""))
                .put("RequestedProcedureDescription")
                .putSequence("RequestedProcedureCodeSequence", List.of());
        String placer = source.getOrDefault("PlacerOrderNumberImagingServiceRequest", "");
        if (!placer.isEmpty()) {
            item.put("PlacerOrderNumberImagingServiceRequest", placer);
        }
        String filler = source.getOrDefault("FillerOrderNumberImagingServiceRequest", "");
        if (!filler.isEmpty()) {
            item.put("FillerOrderNumberImagingServiceRequest", filler);
        }
        return List.of(item);
    }

    private static DicomJsonDataset code(String[] c) {
        return new DicomJsonDataset().put("CodeValue", c[0]).put("CodingSchemeDesignator", c[1]).put("CodeMeaning", c[2]);
    }
}
