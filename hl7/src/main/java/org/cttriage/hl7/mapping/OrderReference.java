package org.cttriage.hl7.mapping;

import java.util.Map;
import java.util.Objects;

/**
 * What the RIS knows a study's order and patient by, as the node recorded them from the source study at triage
 * time (the DICOM keywords of {@code SeriesTriage.EXPORTED_SOURCE_ATTRIBUTES}). Empty strings where the study
 * did not carry a value.
 *
 * @param patientId Patient ID (0010,0020): PID-3.1
 * @param issuerOfPatientId Issuer of Patient ID (0010,0021): PID-3.4
 * @param accessionNumber Accession Number (0008,0050): the RIS's identifier of the Imaging Service Request
 * @param placerOrderNumber Placer Order Number / Imaging Service Request (0040,2016): ORC-2, OBR-2
 * @param fillerOrderNumber Filler Order Number / Imaging Service Request (0040,2017): ORC-3, OBR-3
 * @param requestedProcedureId Requested Procedure ID (0040,1001)
 * @param scheduledProcedureStepId Scheduled Procedure Step ID (0040,0009)
 * @param studyInstanceUid Study Instance UID (0020,000D)
 */
public record OrderReference(String patientId, String issuerOfPatientId, String accessionNumber,
        String placerOrderNumber, String fillerOrderNumber, String requestedProcedureId,
        String scheduledProcedureStepId, String studyInstanceUid) {
    public OrderReference {
        patientId = clean(patientId);
        issuerOfPatientId = clean(issuerOfPatientId);
        accessionNumber = clean(accessionNumber);
        placerOrderNumber = clean(placerOrderNumber);
        fillerOrderNumber = clean(fillerOrderNumber);
        requestedProcedureId = clean(requestedProcedureId);
        scheduledProcedureStepId = clean(scheduledProcedureStepId);
        studyInstanceUid = clean(studyInstanceUid);
    }

    /** From the recorded source attributes, by DICOM keyword. */
    public static OrderReference of(Map<String, String> source) {
        Objects.requireNonNull(source, "source");
        return new OrderReference(source.get("PatientID"), source.get("IssuerOfPatientID"),
                source.get("AccessionNumber"), source.get("PlacerOrderNumberImagingServiceRequest"),
                source.get("FillerOrderNumberImagingServiceRequest"), source.get("RequestedProcedureID"),
                source.get("ScheduledProcedureStepID"), source.get("StudyInstanceUID"));
    }

    private static String clean(String s) {
        // DICOM pads to even length with a space; a multi-valued LO is not an order key.
        return s == null ? "" : s.trim();
    }
}
