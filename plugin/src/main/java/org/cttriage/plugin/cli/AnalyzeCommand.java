package org.cttriage.plugin.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import org.cttriage.core.domain.FindingResult;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.pipeline.TriagePipeline;
import org.cttriage.core.dicom.sr.SourceStudy;
import org.cttriage.core.dicom.sr.SrOptions;
import org.cttriage.core.volume.StudyVolumeBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ct-triage analyze}: triage a folder of CT instances offline and write the SR, SEG, KOS and result.json. */
@Command(name = "analyze", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Selects the series to triage in FOLDER, builds its volume, runs the model and writes, with no network,",
            "OUT/sr.dcm (Comprehensive 3D SR, TID 1500), OUT/seg.dcm (the organs as a DICOM Segmentation on the",
            "series' grid), OUT/kos.dcm (key images of the findings called present; none when none is),",
            "OUT/result.json (every finding's probability and decision,",
            "organ volumes, suggested priority, model identity, timings) and OUT/fhir-bundle.json (FHIR R4 transaction,",
            "validated). Exit 1 with a TRIAGE code when no series qualifies."})
final class AnalyzeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FOLDER", description = "Folder with the CT instances of one study.")
    Path folder;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (created).")
    Path out;

    @Option(names = "--sr-series-number", defaultValue = "9901", description = "Series Number of the SR (default: ${DEFAULT-VALUE}).")
    int srSeriesNumber;

    @Option(names = "--institution", defaultValue = "", description = "Institution Name written in the SR (default: none).")
    String institution;

    @Option(names = "--add-finding", paramLabel = "ID=ORGAN:POSITIVE[|POSITIVE…]:NEGATIVE[|NEGATIVE…]",
            description = "Score an extra finding described in words, without retraining, e.g. "
                    + "'big_liver=liver:enlarged liver|large liver:normal liver size'. Repeatable. Words outside the "
                    + "model's vocabulary are reported. Uses the package's median calibration and threshold 0.5.")
    java.util.List<String> addFindings = new java.util.ArrayList<>();

    @Option(names = "--fhir-validation", defaultValue = "true", negatable = true, fallbackValue = "true",
            description = "Validate the FHIR bundle against the R4 core definitions (offline) before writing it;"
                    + " an invalid bundle is not written (default: ${DEFAULT-VALUE}; --no-fhir-validation skips it).")
    boolean fhirValidation;

    @Mixin
    ModelOptions model;

    @Mixin
    PolicyOptions policy;

    @Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        ExecutorService pool = threads.newPool();
        try (InferenceEngine engine = model.open()) {
            // The node's pipeline object: what analyze says of a study is what the node would.
            TriagePipeline pipeline = new TriagePipeline(engine, policy.selection(), policy.assembly(), pool,
                    new SrOptions("ct-triage", institution, srSeriesNumber, "0"));
            StudyVolumeBuilder.Outcome o = pipeline.volume(folder);
            if (!(o instanceof StudyVolumeBuilder.Built built)) {
                spec.commandLine().getErr().println(((StudyVolumeBuilder.NotBuilt) o).reason().getMessage());
                return CtTriageCommand.EXIT_TRIAGE_FAILURE;
            }
            java.util.List<org.cttriage.core.inference.AbnormalityDictionary.Finding> extra = new java.util.ArrayList<>();
            for (String spec : addFindings) {
                extra.add(parseFinding(engine, spec));
            }
            InferenceEngine.Analysis analysis = pipeline.infer(built, extra);
            TriageResult result = analysis.result();
            Files.createDirectories(out);
            SourceStudy source = pipeline.source(built);
            TriagePipeline.ResultObjects objects = pipeline.writeResultObjects(source, built, analysis,
                    java.util.Optional.empty(), java.util.List.of(), java.util.List.of(), out,
                    TriagePipeline.FileNames.KIND);
            // A folder analysed before may hold a SEG or KOS this result does not have: it is not this result's.
            if (objects.seg().isEmpty()) {
                Files.deleteIfExists(out.resolve("seg.dcm"));
            }
            if (objects.kos().isEmpty()) {
                Files.deleteIfExists(out.resolve("kos.dcm"));
            }
            List<Path> keyImages = pipeline.writeKeyImages(built.volume(), analysis, objects.sr().file());
            ObjectNode json = JSON.valueToTree(result);
            json.put("device", engine.device());
            Path part = out.resolve("result.json.part");
            JSON.writeValue(part.toFile(), json);
            Files.move(part, out.resolve("result.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            org.hl7.fhir.r4.model.Bundle bundle = new org.cttriage.fhir.mapping.TriageBundleMapper(
                    org.cttriage.fhir.mapping.FhirMappingOptions.defaults()).toTransaction(result,
                    new org.cttriage.fhir.mapping.TriageBundleMapper.PatientIdentity(source.get("PatientID"),
                            source.get("IssuerOfPatientID")), studyTime(source), java.time.Instant.now());
            ca.uhn.fhir.context.FhirContext fhir = ca.uhn.fhir.context.FhirContext.forR4Cached();
            if (fhirValidation) {
                var errors = new org.cttriage.fhir.mapping.BundleValidator(fhir).errors(bundle);
                if (!errors.isEmpty()) {
                    spec.commandLine().getErr().println("FHIR bundle not written, validation errors: " + errors.stream()
                            .map(m -> m.getLocationString() + ": " + m.getMessage()).toList());
                    return CtTriageCommand.EXIT_TRIAGE_FAILURE;
                }
            }
            Files.writeString(out.resolve("fhir-bundle.json"), fhir.newJsonParser().setPrettyPrint(true)
                    .encodeResourceToString(bundle));
            stdout.printf("series %s: suggested priority %s%n", result.seriesInstanceUid(), result.suggestedPriority().fhirCode());
            for (FindingResult f : result.findings()) {
                stdout.printf(java.util.Locale.ROOT, "  %-22s %-11s p=%.3f %s%n", f.id(), f.organ(), f.probability(),
                        f.present() ? "PRESENT" : "absent");
            }
            for (String note : objects.notes()) {
                stdout.printf("%s%n", note);
            }
            StringBuilder dicom = new StringBuilder();
            objects.all().forEach(written -> dicom.append(written.file()).append(", "));
            stdout.printf("wrote %s%s and %s (inference %d ms)%n", dicom, out.resolve("result.json"),
                    out.resolve("fhir-bundle.json"),
                    result.timingsMillis().get("total"));
            for (Path k : keyImages) {
                stdout.printf("wrote key image %s%n", k);
            }
            stdout.flush();
            return 0;
        } catch (TriageException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return CtTriageCommand.EXIT_TRIAGE_FAILURE;
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--add-finding: " + e.getMessage());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Study Date/Time as an instant (UTC, as DICOM gives no zone here), or now when absent. */
    private static java.time.Instant studyTime(SourceStudy s) {
        return org.cttriage.fhir.mapping.TriageBundleMapper.studyInstant(s.get("StudyDate"), s.get("StudyTime"))
                .orElseGet(java.time.Instant::now);
    }

    /** Parses ID=ORGAN:POS|POS:NEG|NEG and reports words the vocabulary lacks. */
    private org.cttriage.core.inference.AbnormalityDictionary.Finding parseFinding(InferenceEngine engine, String text)
            throws TriageException {
        String[] idRest = text.split("=", 2);
        String[] parts = idRest.length == 2 ? idRest[1].split(":", -1) : new String[0];
        if (parts.length != 3 || idRest[0].isBlank()) {
            throw new IllegalArgumentException("expected ID=ORGAN:POSITIVE[|…]:NEGATIVE[|…], was " + text);
        }
        java.util.List<String> positive = java.util.Arrays.stream(parts[1].split("\\|")).map(String::trim)
                .filter(x -> !x.isEmpty()).toList();
        java.util.List<String> negative = java.util.Arrays.stream(parts[2].split("\\|")).map(String::trim)
                .filter(x -> !x.isEmpty()).toList();
        if (positive.isEmpty() || negative.isEmpty()) {
            throw new IllegalArgumentException("finding " + idRest[0] + " needs at least one positive and one negative prompt");
        }
        java.util.List<String> all = new java.util.ArrayList<>(positive);
        all.addAll(negative);
        java.util.List<String> unknown = engine.embed(all).unknownWords();
        if (!unknown.isEmpty()) {
            spec.commandLine().getErr().println("finding " + idRest[0] + ": words not in the model's vocabulary (scored as"
                    + " unknown tokens): " + String.join(", ", unknown));
        }
        return engine.customFinding(idRest[0].trim(), parts[0].trim(), positive, negative,
                org.cttriage.core.domain.Priority.ROUTINE);
    }
}
