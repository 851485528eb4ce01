package org.cttriage.fhir.delivery;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import java.util.Map;
import org.cttriage.core.dicom.sr.SourceStudy;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.Exporter;
import org.cttriage.fhir.mapping.FhirMappingOptions;
import org.cttriage.fhir.mapping.TriageBundleMapper;
import org.hl7.fhir.r4.model.Bundle;

/**
 * The delivery model's exporter for FHIR: a stored result mapped to its transaction bundle (the TriageResult and
 * the source study's attributes recorded with it at triage time) and sent once by {@link FhirDelivery}. The bundle
 * writes the study's one DiagnosticReport and its Observations by conditional update, so a superseding result
 * replaces what the earlier one stored ({@link TriageBundleMapper}).
 */
public final class FhirExporter implements Exporter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, String>> ATTRIBUTES = new TypeReference<>() {
    };

    private final FhirDelivery delivery;
    private final TriageBundleMapper mapper;
    private final Clock clock;

    public FhirExporter(FhirDelivery delivery, FhirMappingOptions mapping, Clock clock) {
        this.delivery = delivery;
        this.mapper = new TriageBundleMapper(mapping);
        this.clock = clock;
    }

    /** The process's one R4 FhirContext (STYLE.md). */
    public static ca.uhn.fhir.context.FhirContext context() {
        return ca.uhn.fhir.context.FhirContext.forR4Cached();
    }

    /** The retries and dead letters of this FHIR server ({@code fhir.max-attempts} and the back-off keys). */
    public org.cttriage.core.node.RetryPolicy retryPolicy() {
        return delivery.retryPolicy();
    }

    @Override
    public String kind() {
        return "fhir";
    }

    @Override
    public Attempt attempt(DeliveryLedger.Delivery d) throws Exception {
        return delivery.send(bundle(d), d.series().key());
    }

    /** The bundle of a delivery's result. */
    Bundle bundle(DeliveryLedger.Delivery d) throws Exception {
        TriageResult result = JSON.readValue(d.resultJson(), TriageResult.class);
        // Recorded with the result at triage time; only results recorded before that read the SR back.
        Map<String, String> source = d.sourceJson() != null ? JSON.readValue(d.sourceJson(), ATTRIBUTES)
                : SourceStudy.ofSr(d.srFile()).attributes();
        return mapper.toTransaction(result, new TriageBundleMapper.PatientIdentity(
                        source.getOrDefault("PatientID", ""), source.getOrDefault("IssuerOfPatientID", "")),
                TriageBundleMapper.studyInstant(source.getOrDefault("StudyDate", ""),
                        source.getOrDefault("StudyTime", "")).orElseGet(clock::instant),
                d.updated());
    }
}
