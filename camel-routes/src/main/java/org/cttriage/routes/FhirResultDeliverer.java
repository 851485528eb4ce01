package org.cttriage.routes;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import org.cttriage.core.dicom.sr.SourceStudy;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.fhir.delivery.DeliveryResult;
import org.cttriage.fhir.delivery.FhirDelivery;
import org.cttriage.fhir.mapping.FhirMappingOptions;
import org.cttriage.fhir.mapping.TriageBundleMapper;
import org.hl7.fhir.r4.model.Bundle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * FHIR delivery of a stored result: the TriageResult from the ledger, the patient and study
 * time from its SR (the SR copies them from the source series), mapped to the transaction
 * bundle and posted by {@link FhirDelivery}, which validates it (when configured) and has its own
 * retries and dead letters. Conditional creates make a repeated delivery harmless.
 */
public final class FhirResultDeliverer implements FhirDeliverer {
    private static final Logger LOG = LoggerFactory.getLogger(FhirResultDeliverer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FhirDelivery delivery;
    private final TriageBundleMapper mapper;
    private final Clock clock;

    public FhirResultDeliverer(FhirDelivery delivery, FhirMappingOptions mapping, Clock clock) {
        this.delivery = delivery;
        this.mapper = new TriageBundleMapper(mapping);
        this.clock = clock;
    }

    @Override
    public Outcome deliver(DeliveryLedger.Delivery d) throws Exception {
        TriageResult result = JSON.readValue(d.resultJson(), TriageResult.class);
        // Recorded with the result at triage time; only results recorded before that read the SR back.
        java.util.Map<String, String> source = d.sourceJson() != null
                ? JSON.readValue(d.sourceJson(), new com.fasterxml.jackson.core.type.TypeReference<java.util.Map<String, String>>() { })
                : SourceStudy.ofSr(d.srFile()).attributes();
        Bundle bundle = mapper.toTransaction(result, new TriageBundleMapper.PatientIdentity(
                        source.getOrDefault("PatientID", ""), source.getOrDefault("IssuerOfPatientID", "")),
                TriageBundleMapper.studyInstant(source.getOrDefault("StudyDate", ""), source.getOrDefault("StudyTime", ""))
                        .orElseGet(clock::instant),
                d.updated());
        DeliveryResult outcome = delivery.deliver(bundle, d.series().key());
        if (outcome instanceof DeliveryResult.Delivered) {
            return Outcome.DELIVERED;
        }
        // The summary, not the outcome: the server's diagnostics may quote patient data.
        LOG.error("FHIR delivery of result {} (series {}) gave up: {}", d.resultId(), d.series().key(),
                outcome.logSummary());
        return Outcome.GIVEN_UP;
    }

    /** One FhirContext per process (STYLE.md). */
    public static FhirContext context() {
        return FhirContext.forR4Cached();
    }
}
