package org.cttriage.fhir.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.validation.SingleValidationMessage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.cttriage.core.domain.TriageResult;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TriageBundleMapperTest {
    static final FhirContext CTX = FhirContext.forR4Cached();
    static BundleValidator validator;

    @BeforeAll
    static void validator() {
        validator = new BundleValidator(CTX);
    }

    static TriageResult result() {
        return SampleResults.fourFindings();
    }

    Bundle map() {
        return new TriageBundleMapper(FhirMappingOptions.defaults()).toTransaction(result(),
                new TriageBundleMapper.PatientIdentity("PHANTOM-7", "CTTRIAGE-PHANTOM"),
                Instant.parse("2026-04-14T09:00:00Z"), Instant.parse("2026-04-14T09:05:00Z"));
    }

    @Test
    void bundleAndEveryResourceValidateWithoutErrors() {
        Bundle b = map();
        List<SingleValidationMessage> errors = new ArrayList<>(validator.errors(b));
        for (Bundle.BundleEntryComponent e : b.getEntry()) {
            errors.addAll(validator.errors(e.getResource()));
        }
        assertThat(errors).extracting(m -> m.getLocationString() + ": " + m.getMessage()).isEmpty();
    }

    @Test
    void theStudysPriorityIsOneTaskPerStudyByConditionalUpdateThatValidates() {
        TriageBundleMapper mapper = new TriageBundleMapper(FhirMappingOptions.defaults());
        TriageBundleMapper.PatientIdentity patient = new TriageBundleMapper.PatientIdentity("PHANTOM-7", "");
        Bundle b = mapper.toPriorityTask("1.2.3.4", patient, org.cttriage.core.domain.Priority.STAT,
                List.of("aortic_aneurysm"), "ACC7", java.time.Instant.parse("2026-12-04T08:00:00Z"));
        List<SingleValidationMessage> errors = new ArrayList<>(validator.errors(b));
        errors.addAll(validator.errors(b.getEntryFirstRep().getResource()));
        assertThat(errors).extracting(m -> m.getLocationString() + ": " + m.getMessage()).isEmpty();
        assertThat(b.getEntry()).hasSize(1);
        Bundle.BundleEntryRequestComponent request = b.getEntryFirstRep().getRequest();
        assertThat(request.getMethod()).isEqualTo(Bundle.HTTPVerb.PUT);
        assertThat(request.getUrl()).startsWith("Task?identifier=urn:cttriage:id|task-");
        org.hl7.fhir.r4.model.Task task = (org.hl7.fhir.r4.model.Task) b.getEntryFirstRep().getResource();
        assertThat(task.getPriority()).isEqualTo(org.hl7.fhir.r4.model.Task.TaskPriority.STAT);
        assertThat(task.getIntent()).isEqualTo(org.hl7.fhir.r4.model.Task.TaskIntent.PROPOSAL);
        assertThat(task.getFocus().getIdentifier().getValue()).isEqualTo("urn:oid:1.2.3.4");
        assertThat(task.getBasedOnFirstRep().getIdentifier().getValue()).isEqualTo("ACC7");
        assertThat(task.getBasedOnFirstRep().getIdentifier().getType().getCodingFirstRep().getCode()).isEqualTo("ACSN");
        assertThat(task.getReasonReference().getIdentifier().getValue()).startsWith("report-");
        assertThat(task.getDescription()).contains("stat").contains("aortic_aneurysm");
        // Without an accession number the Task still names the study; it is based on no order.
        Bundle none = mapper.toPriorityTask("1.2.3.4", patient, org.cttriage.core.domain.Priority.ROUTINE, List.of(), "",
                java.time.Instant.parse("2026-12-04T08:00:00Z"));
        assertThat(((org.hl7.fhir.r4.model.Task) none.getEntryFirstRep().getResource()).getBasedOn()).isEmpty();
        assertThat(none.getEntryFirstRep().getRequest().getUrl()).isEqualTo(request.getUrl());
    }

    @Test
    void reportAndObservationsAreConditionalUpdatesSoARetryCreatesNothingNew() {
        Bundle b = map();
        assertThat(b.getType()).isEqualTo(Bundle.BundleType.TRANSACTION);
        assertThat(b.getEntry()).hasSize(1 + 4 + 1 + 1);
        for (Bundle.BundleEntryComponent e : b.getEntry()) {
            Resource r = e.getResource();
            if (r instanceof DiagnosticReport || r instanceof Observation) {
                // One report per study: created the first time, replaced by a superseding result.
                assertThat(e.getRequest().getMethod()).isEqualTo(Bundle.HTTPVerb.PUT);
                assertThat(e.getRequest().getUrl()).startsWith(r.fhirType() + "?identifier=urn:cttriage:id|");
                assertThat(e.getRequest().hasIfNoneExist()).isFalse();
            } else if (r instanceof org.hl7.fhir.r4.model.Provenance p) {
                // No identifier in R4: created conditionally on the tag that carries its key.
                assertThat(e.getRequest().getMethod()).isEqualTo(Bundle.HTTPVerb.POST);
                assertThat(e.getRequest().getIfNoneExist()).startsWith("_tag=urn:cttriage:id|provenance-");
                assertThat(e.getRequest().getIfNoneExist()).endsWith("|" + p.getMeta().getTagFirstRep().getCode());
            } else {
                assertThat(e.getRequest().getMethod()).isEqualTo(Bundle.HTTPVerb.POST);
                assertThat(e.getRequest().getIfNoneExist()).startsWith("identifier=urn:cttriage:id|");
            }
        }
        String once = CTX.newJsonParser().encodeResourceToString(b);
        String twice = CTX.newJsonParser().encodeResourceToString(map());
        assertThat(twice).isEqualTo(once);
    }

    @Test
    void aSupersedingResultOfTheStudyKeepsTheReportsIdentifiersAndAddsAProvenance() {
        TriageResult first = result();
        TriageResult later = new TriageResult(first.studyInstanceUid(), "1.2.3.4.6", List.of("1.2.3.4.6.1"),
                first.findings(), first.organVolumesMl(), first.suggestedPriority(), first.model(), first.timingsMillis());
        TriageBundleMapper mapper = new TriageBundleMapper(FhirMappingOptions.defaults());
        TriageBundleMapper.PatientIdentity patient = new TriageBundleMapper.PatientIdentity("PHANTOM-7", "");
        Bundle a = mapper.toTransaction(first, patient, Instant.EPOCH, Instant.EPOCH);
        Bundle b = mapper.toTransaction(later, patient, Instant.EPOCH, Instant.EPOCH);
        assertThat(urls(b, "DiagnosticReport")).isEqualTo(urls(a, "DiagnosticReport")).hasSize(1);
        assertThat(urls(b, "Observation")).isEqualTo(urls(a, "Observation")).hasSize(4);
        assertThat(urls(b, "Provenance")).doesNotContainAnyElementsOf(urls(a, "Provenance")).hasSize(1);
    }

    private static List<String> urls(Bundle b, String type) {
        return b.getEntry().stream().filter(e -> e.getResource().fhirType().equals(type))
                .map(e -> e.getRequest().hasIfNoneExist() ? e.getRequest().getIfNoneExist() : e.getRequest().getUrl())
                .toList();
    }

    @Test
    void reportAndObservationsCarryTheMapping() {
        Bundle b = map();
        DiagnosticReport r = (DiagnosticReport) b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
                .filter(DiagnosticReport.class::isInstance).findFirst().orElseThrow();
        assertThat(r.getStatus()).isEqualTo(DiagnosticReport.DiagnosticReportStatus.PRELIMINARY);
        assertThat(r.getCode().getCodingFirstRep().getCode()).isEqualTo("18748-4");
        assertThat(r.getCategoryFirstRep().getCodingFirstRep().getCode()).isEqualTo("RAD");
        assertThat(r.getImagingStudyFirstRep().getIdentifier().getValue()).isEqualTo("urn:oid:1.2.3.4");
        assertThat(r.getSubject().getIdentifier().getValue()).isEqualTo("PHANTOM-7");
        assertThat(r.getResult()).hasSize(4);
        assertThat(r.getConclusion()).contains("pleural effusion").contains("urgent");
        List<Observation> obs = b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
                .filter(Observation.class::isInstance).map(Observation.class::cast).toList();
        Observation effusion = obs.get(0);
        assertThat(effusion.getCode().getCodingFirstRep().getSystem()).isEqualTo("http://snomed.info/sct");
        assertThat(effusion.getBodySite().getCodingFirstRep().getCode()).isEqualTo("39607008");
        assertThat(effusion.getValueQuantity().getValue().doubleValue()).isEqualTo(0.93);
        assertThat(effusion.getValueQuantity().getCode()).isEqualTo("1");
        assertThat(effusion.getInterpretationFirstRep().getCodingFirstRep().getCode()).isEqualTo("POS");
        assertThat(obs.get(1).getInterpretationFirstRep().getCodingFirstRep().getCode()).isEqualTo("NEG");
        assertThat(obs.get(3).getInterpretation()).as("not reportable: no decision").isEmpty();
        assertThat(effusion.getDerivedFromFirstRep().getIdentifier().getValue()).isEqualTo("urn:oid:1.2.3.4");
        Resource device = b.getEntryFirstRep().getResource();
        assertThat(effusion.getDevice().getReference()).isEqualTo(b.getEntryFirstRep().getFullUrl());
        assertThat(device.fhirType()).isEqualTo("Device");
    }

    @Test
    void studyDateAndTimeBecomeTheEffectiveInstant() {
        assertThat(TriageBundleMapper.studyInstant("20260414", "091000.123456"))
                .contains(Instant.parse("2026-04-14T09:10:00Z"));
        assertThat(TriageBundleMapper.studyInstant("20260414", "0910")).contains(Instant.parse("2026-04-14T09:10:00Z"));
        assertThat(TriageBundleMapper.studyInstant("20260414", "")).contains(Instant.parse("2026-04-14T00:00:00Z"));
        assertThat(TriageBundleMapper.studyInstant("", "091000")).isEmpty();
        assertThat(TriageBundleMapper.studyInstant("2026-04-14", "091000")).isEmpty();
    }
}
