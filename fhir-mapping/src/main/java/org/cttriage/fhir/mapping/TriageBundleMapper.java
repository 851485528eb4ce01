package org.cttriage.fhir.mapping;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.cttriage.core.domain.CodedConcept;
import org.cttriage.core.domain.FindingResult;
import org.cttriage.core.domain.TriageResult;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Device;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Provenance;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * Maps a {@link TriageResult} to one FHIR R4 transaction Bundle: the algorithm Device, one
 * Observation per finding, the DiagnosticReport and a Provenance.
 *
 * <p>One report per study: the DiagnosticReport's identifier derives from the Study Instance UID, each
 * Observation's from the study and the finding, and both are written by conditional update
 * ({@code PUT DiagnosticReport?identifier=…}). The first result of a study creates them; a result that
 * supersedes it replaces them under the same identifiers, so the server keeps one report per study whose
 * version history holds each result, and never a second report. Their status stays {@code preliminary}:
 * FHIR R4 defines {@code amended} as a change made "subsequent to being final", and an unverified AI
 * result is never final. The Device is created conditionally on its identifier ({@code ifNoneExist}), the
 * Provenance of each result on a meta.tag that carries the result's key (R4 gives Provenance no
 * identifier), so each version of the report has its own Provenance. Sending the same result twice
 * changes nothing the server keeps. A pure function: no I/O, no clock (times are parameters).
 */
public final class TriageBundleMapper {
    static final String LOINC = "http://loinc.org";
    static final String SNOMED = "http://snomed.info/sct";
    static final String UCUM = "http://unitsofmeasure.org";
    static final String DICOM_DCM = "http://dicom.nema.org/resources/ontology/DCM";
    static final String V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074";
    static final String OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category";
    static final String INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
    static final String DICOM_UID = "urn:dicom:uid";
    static final String PRIVATE_CODES = "urn:cttriage:code";

    private final FhirMappingOptions options;

    public TriageBundleMapper(FhirMappingOptions options) {
        this.options = options;
    }

    /** Patient as DICOM knows it: Patient ID and, when present, its issuer (used as the identifier system if a URI). */
    public record PatientIdentity(String patientId, String issuerOfPatientId) {
    }

    /**
     * Study Date (DA) and Study Time (TM) as the report's effective instant, read as UTC because
     * the DICOM header gives no zone; empty when the date is absent or malformed. Fractions of a
     * second and a truncated TM (HH, HHMM) are accepted.
     */
    public static java.util.Optional<Instant> studyInstant(String studyDate, String studyTime) {
        try {
            String time = ((studyTime == null ? "" : studyTime) + "000000").substring(0, 6);
            return java.util.Optional.of(java.time.LocalDateTime.parse(studyDate + time,
                    java.time.format.DateTimeFormatter.ofPattern("yyyyMMddHHmmss")).toInstant(java.time.ZoneOffset.UTC));
        } catch (RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    /** The transaction bundle for {@code result}. */
    public Bundle toTransaction(TriageResult result, PatientIdentity patient, Instant effective, Instant issued) {
        String inputHash = sha256(String.join("\\", result.sourceInstances()));
        String key = result.studyInstanceUid() + "|" + result.seriesInstanceUid() + "|" + result.model().name() + "|"
                + result.model().version() + "|" + inputHash;

        Bundle bundle = new Bundle();
        bundle.setType(Bundle.BundleType.TRANSACTION);

        Device device = new Device();
        Identifier deviceId = id("device-" + sha256(result.model().name() + "|" + result.model().version() + "|"
                + result.model().packageSha256()).substring(0, 32));
        device.addIdentifier(deviceId);
        device.setManufacturer(options.manufacturer());
        device.addDeviceName().setName(result.model().name()).setType(Device.DeviceNameType.MODELNAME);
        device.addVersion().setValue(result.model().version());
        device.addNote().setText("model package SHA-256 " + result.model().packageSha256());
        String deviceUrl = urn(deviceId);
        add(bundle, device, deviceUrl, deviceId);

        Reference subject = new Reference().setIdentifier(new Identifier()
                .setSystem(patientSystem(patient)).setValue(patient.patientId()));
        Reference study = new Reference().setType("ImagingStudy").setIdentifier(new Identifier()
                .setSystem(DICOM_UID).setValue("urn:oid:" + result.studyInstanceUid()));

        DiagnosticReport report = new DiagnosticReport();
        // One report per study: a superseding result replaces it under the same identifier.
        Identifier reportId = id("report-" + sha256(result.studyInstanceUid()).substring(0, 32));
        report.addIdentifier(reportId);
        report.setStatus(DiagnosticReport.DiagnosticReportStatus.PRELIMINARY);
        report.addCategory(new CodeableConcept(new Coding(V2_0074, "RAD", "Radiology")));
        report.setCode(new CodeableConcept(new Coding(LOINC, "18748-4", "Diagnostic imaging study")));
        report.setSubject(subject);
        report.addImagingStudy(study);
        report.setEffective(new DateTimeType(Date.from(effective)));
        report.setIssuedElement(new InstantType(Date.from(issued)));

        List<Resource> observations = new ArrayList<>();
        List<String> present = new ArrayList<>();
        for (FindingResult f : result.findings()) {
            Observation o = new Observation();
            Identifier oid = id("observation-" + sha256(result.studyInstanceUid() + "|" + f.id()).substring(0, 32));
            o.addIdentifier(oid);
            o.setStatus(Observation.ObservationStatus.PRELIMINARY);
            o.addCategory(new CodeableConcept(new Coding(OBSERVATION_CATEGORY, "imaging", "Imaging")));
            o.setCode(concept(f.finding()));
            o.setSubject(subject.copy());
            o.setEffective(new DateTimeType(Date.from(effective)));
            o.setIssuedElement(new InstantType(Date.from(issued)));
            o.setBodySite(concept(f.organCode()));
            o.setValue(new Quantity().setValue(BigDecimal.valueOf(f.probability()).setScale(4, RoundingMode.HALF_UP))
                    .setUnit("probability").setSystem(UCUM).setCode("1"));
            if (f.reportable()) {
                o.addInterpretation(new CodeableConcept(f.present()
                        ? new Coding(INTERPRETATION, "POS", "Positive") : new Coding(INTERPRETATION, "NEG", "Negative")));
            }
            o.addDerivedFrom(study.copy());
            o.setDevice(new Reference(deviceUrl));
            o.addNote().setText(f.id() + " in " + f.organ() + ", decision threshold " + f.threshold()
                    + (f.reportable() ? "" : "; not reportable by this model version (probability only)"));
            String url = urn(oid);
            put(bundle, o, url, oid);
            report.addResult(new Reference(url));
            observations.add(o);
            if (f.present()) {
                present.add(f.id().replace('_', ' '));
            }
        }
        report.setConclusion("AI triage (" + result.model().name() + " " + result.model().version() + ", not verified): "
                + (present.isEmpty() ? "no finding called present" : "present: " + String.join(", ", present))
                + ". Suggested reading priority: " + result.suggestedPriority().fhirCode() + ".");
        String reportUrl = urn(reportId);
        put(bundle, report, reportUrl, reportId);

        Provenance provenance = new Provenance();
        provenance.addTarget(new Reference(reportUrl));
        for (Bundle.BundleEntryComponent e : bundle.getEntry()) {
            if (e.getResource() instanceof Observation) {
                provenance.addTarget(new Reference(e.getFullUrl()));
            }
        }
        provenance.setRecordedElement(new InstantType(Date.from(issued)));
        provenance.addAgent().setWho(new Reference(deviceUrl))
                .setType(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                        "assembler", "Assembler")));
        // Provenance has no identifier in R4, so its key travels as a meta.tag: _tag is a search parameter of
        // every resource, and creating on it conditionally keeps a retry from adding a second Provenance.
        Identifier provenanceKey = id("provenance-" + sha256(key).substring(0, 32));
        provenance.getMeta().addTag(provenanceKey.getSystem(), provenanceKey.getValue(), null);
        bundle.addEntry().setFullUrl(urn(provenanceKey)).setResource(provenance)
                .getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Provenance")
                .setIfNoneExist("_tag=" + provenanceKey.getSystem() + "|" + provenanceKey.getValue());
        return bundle;
    }

    /**
     * The study's reading priority as a FHIR Task, for a worklist or EHR that follows Tasks: one Task per study
     * (identifier {@code task-…} of the study), written by conditional update so that a later priority (a raise, a
     * reader's review) replaces it. {@code intent} is {@code proposal}: the node suggests, people decide.
     *
     * @param priority the study's priority as the worklist holds it (raised by results, lowered only by a review)
     * @param causes the findings that caused it
     * @param accessionNumber the study's accession number ("" when none): the order the Task is based on
     * @param modified when the priority was set
     */
    public Bundle toPriorityTask(String studyInstanceUid, PatientIdentity patient, org.cttriage.core.domain.Priority priority,
            List<String> causes, String accessionNumber, Instant modified) {
        Bundle bundle = new Bundle();
        bundle.setType(Bundle.BundleType.TRANSACTION);
        org.hl7.fhir.r4.model.Task task = new org.hl7.fhir.r4.model.Task();
        Identifier taskId = id("task-" + sha256(studyInstanceUid).substring(0, 32));
        task.addIdentifier(taskId);
        task.setStatus(org.hl7.fhir.r4.model.Task.TaskStatus.REQUESTED);
        task.setIntent(org.hl7.fhir.r4.model.Task.TaskIntent.PROPOSAL);
        task.setPriority(org.hl7.fhir.r4.model.Task.TaskPriority.fromCode(priority.fhirCode()));
        task.setCode(new CodeableConcept(new Coding(PRIVATE_CODES + ":99cttriage", "triage-reading",
                "Read the imaging study with the suggested priority")));
        task.setDescription("Suggested reading priority " + priority.fhirCode()
                + (causes.isEmpty() ? "" : " (" + String.join(", ", causes) + ")")
                + " from an AI triage model; not a clinical device.");
        task.setFocus(new Reference().setType("ImagingStudy").setIdentifier(new Identifier()
                .setSystem(DICOM_UID).setValue("urn:oid:" + studyInstanceUid)));
        task.setFor(new Reference().setIdentifier(new Identifier().setSystem(patientSystem(patient))
                .setValue(patient.patientId())));
        if (accessionNumber != null && !accessionNumber.isEmpty()) {
            Identifier accession = new Identifier().setValue(accessionNumber);
            accession.setType(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/v2-0203", "ACSN",
                    "Accession ID")));
            task.addBasedOn(new Reference().setType("ServiceRequest").setIdentifier(accession));
        }
        task.setReasonReference(new Reference().setType("DiagnosticReport")
                .setIdentifier(id("report-" + sha256(studyInstanceUid).substring(0, 32))));
        task.setAuthoredOnElement(new DateTimeType(Date.from(modified)));
        task.setLastModifiedElement(new DateTimeType(Date.from(modified)));
        put(bundle, task, urn(taskId), taskId);
        return bundle;
    }

    private String patientSystem(PatientIdentity p) {
        String issuer = p.issuerOfPatientId() == null ? "" : p.issuerOfPatientId().trim();
        return issuer.matches("^(urn:|https?://).+") ? issuer : options.patientIdentifierSystem();
    }

    private Identifier id(String value) {
        return new Identifier().setSystem(options.identifierSystem()).setValue(value);
    }

    /** A stable urn:uuid for an identifier (name-based UUID), so the bundle is the same on every retry. */
    private static String urn(Identifier id) {
        return "urn:uuid:" + UUID.nameUUIDFromBytes((id.getSystem() + "|" + id.getValue()).getBytes(StandardCharsets.UTF_8));
    }

    private static void add(Bundle b, Resource r, String fullUrl, Identifier conditional) {
        b.addEntry().setFullUrl(fullUrl).setResource(r).getRequest().setMethod(Bundle.HTTPVerb.POST)
                .setUrl(r.fhirType()).setIfNoneExist("identifier=" + conditional.getSystem() + "|" + conditional.getValue());
    }

    /** A conditional update: created when no resource has the identifier, replaced (a new version) when one has. */
    private static void put(Bundle b, Resource r, String fullUrl, Identifier conditional) {
        b.addEntry().setFullUrl(fullUrl).setResource(r).getRequest().setMethod(Bundle.HTTPVerb.PUT)
                .setUrl(r.fhirType() + "?identifier=" + conditional.getSystem() + "|" + conditional.getValue());
    }

    static CodeableConcept concept(CodedConcept c) {
        return new CodeableConcept(new Coding(system(c.scheme()), c.value(), c.meaning())).setText(c.meaning());
    }

    static String system(String dicomScheme) {
        return switch (dicomScheme) {
            case "SCT" -> SNOMED;
            case "LN" -> LOINC;
            case "DCM" -> DICOM_DCM;
            case "UCUM" -> UCUM;
            default -> PRIVATE_CODES + ":" + dicomScheme.toLowerCase(java.util.Locale.ROOT);
        };
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }
}
