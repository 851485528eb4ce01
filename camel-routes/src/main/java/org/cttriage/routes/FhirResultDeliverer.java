package org.cttriage.routes;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.node.DeliveryLedger;
import org.cttriage.fhir.delivery.DeliveryResult;
import org.cttriage.fhir.delivery.FhirDelivery;
import org.cttriage.fhir.mapping.BundleValidator;
import org.cttriage.fhir.mapping.FhirMappingOptions;
import org.cttriage.fhir.mapping.TriageBundleMapper;
import org.hl7.fhir.r4.model.Bundle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * FHIR delivery of a stored result: the TriageResult from the ledger, the patient and study
 * time from its SR (the SR copies them from the source series), mapped to the transaction
 * bundle, validated when configured, and posted by {@link FhirDelivery} with its own retries
 * and dead letters. Conditional creates make a repeated delivery harmless.
 */
public final class FhirResultDeliverer implements FhirDeliverer {
    private static final Logger LOG = LoggerFactory.getLogger(FhirResultDeliverer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FhirDelivery delivery;
    private final TriageBundleMapper mapper;
    private final BundleValidator validator;
    private final Clock clock;

    /**
     * @param validator validates each bundle before it is sent, or null not to
     */
    public FhirResultDeliverer(FhirDelivery delivery, FhirMappingOptions mapping, BundleValidator validator, Clock clock) {
        this.delivery = delivery;
        this.mapper = new TriageBundleMapper(mapping);
        this.validator = validator;
        this.clock = clock;
    }

    @Override
    public Outcome deliver(DeliveryLedger.Delivery d) throws Exception {
        TriageResult result = JSON.readValue(d.resultJson(), TriageResult.class);
        AttributeList sr = new AttributeList();
        sr.read(d.srFile().toString());
        String patientId = attribute(sr, TagFromName.PatientID);
        String issuer = attribute(sr, TagFromName.IssuerOfPatientID);
        Bundle bundle = mapper.toTransaction(result, new TriageBundleMapper.PatientIdentity(patientId, issuer),
                studyTime(attribute(sr, TagFromName.StudyDate), attribute(sr, TagFromName.StudyTime)), d.updated());
        if (validator != null) {
            List<String> errors = validator.errors(bundle).stream()
                    .map(m -> m.getLocationString() + ": " + m.getMessage()).toList();
            if (!errors.isEmpty()) {
                throw new TriageException(ErrorCode.TRIAGE_FAILED, "FHIR bundle of result " + d.resultId()
                        + " fails validation: " + errors);
            }
        }
        DeliveryResult outcome = delivery.deliver(bundle, d.series().key());
        if (outcome instanceof DeliveryResult.Delivered) {
            return Outcome.DELIVERED;
        }
        LOG.error("FHIR delivery of result {} (series {}) gave up: {}", d.resultId(), d.series().key(), outcome);
        return Outcome.GIVEN_UP;
    }

    private static String attribute(AttributeList list, com.pixelmed.dicom.AttributeTag tag) {
        return com.pixelmed.dicom.Attribute.getSingleStringValueOrEmptyString(list, tag);
    }

    private Instant studyTime(String date, String time) {
        try {
            String t = (time + "000000").substring(0, 6);
            return LocalDateTime.parse(date + t, DateTimeFormatter.ofPattern("yyyyMMddHHmmss")).toInstant(ZoneOffset.UTC);
        } catch (RuntimeException e) {
            return clock.instant();
        }
    }

    /** One FhirContext per process (STYLE.md). */
    public static FhirContext context() {
        return FhirContext.forR4Cached();
    }
}
