package org.cttriage.fhir.delivery;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.core.node.Exporter;
import org.cttriage.core.node.WorklistRepository;
import org.cttriage.fhir.mapping.FhirMappingOptions;
import org.cttriage.fhir.mapping.TriageBundleMapper;
import org.hl7.fhir.r4.model.Bundle;

/**
 * The delivery model's exporter of the study's reading priority to FHIR, as a Task ({@link
 * TriageBundleMapper#toPriorityTask}): the priority sent is the worklist's at the time of the attempt (a result may
 * have raised it, a reader lowered it), never the result's alone, so the Task never lowers what a person decided.
 * One transaction by {@link FhirDelivery} (its retries, authentication and validation).
 */
public final class FhirTaskExporter implements Exporter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, String>> ATTRIBUTES = new TypeReference<>() {
    };

    private final FhirDelivery delivery;
    private final TriageBundleMapper mapper;
    private final Function<String, Optional<WorklistRepository.Entry>> worklist;

    /** @param worklist the study's worklist entry, by Study Instance UID */
    public FhirTaskExporter(FhirDelivery delivery, FhirMappingOptions mapping,
            Function<String, Optional<WorklistRepository.Entry>> worklist) {
        this.delivery = delivery;
        this.mapper = new TriageBundleMapper(mapping);
        this.worklist = worklist;
    }

    public org.cttriage.core.node.RetryPolicy retryPolicy() {
        return delivery.retryPolicy();
    }

    @Override
    public String kind() {
        return "fhir-task";
    }

    @Override
    public Attempt attempt(DeliveryLedger.Delivery d) throws Exception {
        Optional<Bundle> bundle = bundle(d);
        if (bundle.isEmpty()) {
            return new Attempt.Retry(ErrorCode.NODE_DATABASE_FAILED.code() + " study " + d.series().studyInstanceUid()
                    + " is not on the worklist yet", null);
        }
        return delivery.send(bundle.get(), d.series().key());
    }

    /** The Task bundle of a delivery's study, empty when the study has no worklist entry. */
    Optional<Bundle> bundle(DeliveryLedger.Delivery d) throws Exception {
        Optional<WorklistRepository.Entry> entry = worklist.apply(d.series().studyInstanceUid());
        if (entry.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> source = d.sourceJson() != null ? JSON.readValue(d.sourceJson(), ATTRIBUTES) : Map.of();
        return Optional.of(mapper.toPriorityTask(d.series().studyInstanceUid(), new TriageBundleMapper.PatientIdentity(
                        source.getOrDefault("PatientID", ""), source.getOrDefault("IssuerOfPatientID", "")),
                entry.get().priority(), entry.get().priorityFindings(), source.getOrDefault("AccessionNumber", ""),
                entry.get().prioritySince()));
    }
}
