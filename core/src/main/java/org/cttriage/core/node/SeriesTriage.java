package org.cttriage.core.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import org.cttriage.core.dicom.DicomScanner;
import org.cttriage.core.domain.ResultObject;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.node.InstanceRepository.Instance;
import org.cttriage.core.pipeline.TriagePipeline;
import org.cttriage.core.dicom.sr.SourceStudy;
import org.cttriage.core.dicom.sr.SrOptions;
import org.cttriage.core.dicom.sr.TriageSrWriter;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.core.volume.SelectionReport;
import org.cttriage.core.volume.SeriesSelector;
import org.cttriage.core.volume.StudyVolumeBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Triages one complete series exactly once per distinct input. The input is the set of the
 * series' instances with their revisions; its hash identifies the result. The same input
 * again (a repeated completion, a recovery after a crash, identical instances resent) finds
 * the existing result and creates nothing; changed input (late or replaced instances) yields
 * a new result that supersedes the previous one. The SR's UIDs and content derive from the
 * input, so a crash between writing the SR and recording it reproduces the same SR. The
 * steps ({@link #input}, {@link #volume}, {@link #infer}, {@link #record}) are the triage
 * route's, one by one.
 */
public final class SeriesTriage {
    private static final Logger LOG = LoggerFactory.getLogger(SeriesTriage.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What became of the series. */
    public sealed interface Outcome permits Triaged, NotTriaged {
    }

    /**
     * A result exists for the series' current input.
     *
     * @param resultId the result's id
     * @param created false when it existed already (nothing new was sent anywhere)
     * @param pendingDeliveries deliveries of this result not yet done
     */
    public record Triaged(long resultId, boolean created, List<Long> pendingDeliveries) implements Outcome {
    }

    /** The series could not be triaged; {@code reason} starts with the TRIAGE code. */
    public record NotTriaged(String reason) implements Outcome {
    }

    /**
     * The source study's attributes the exporters need (FHIR subject and effective time, the
     * order's accession; for HL7 v2 the order's identifiers from the Request Attributes Sequence),
     * recorded with each result as {@code source_json}.
     */
    public static final List<String> EXPORTED_SOURCE_ATTRIBUTES = List.of("StudyInstanceUID", "PatientID",
            "IssuerOfPatientID", "StudyDate", "StudyTime", "AccessionNumber", "RequestedProcedureID",
            "ScheduledProcedureStepID", "PlacerOrderNumberImagingServiceRequest",
            "FillerOrderNumberImagingServiceRequest");
    /** Given to {@link NodeObserver}s with the exported ones, never recorded: the patient's name and birth date. */
    public static final List<String> OBSERVED_PATIENT_ATTRIBUTES = List.of("PatientName", "PatientBirthDate");

    private final NodeDatabase database;
    private final SeriesRepository seriesRepository;
    private final InstanceRepository instanceRepository;
    private final ResultRepository resultRepository;
    private final TriagePipeline pipeline;
    private final Path results;
    private final List<String> destinations;
    private final Clock clock;
    private final NodeObserver observer;
    private volatile boolean announceDeliveries;

    /**
     * @param destinations names of the delivery destinations each new result is owed to
     */
    public SeriesTriage(NodeDatabase database, InferenceEngine engine, SelectionPolicy selection,
            AssemblyPolicy assembly, ExecutorService pool, SrOptions srOptions, Path results, List<String> destinations,
            Clock clock) {
        this(database, new TriagePipeline(engine, selection, assembly, pool, srOptions), results, destinations, clock);
    }

    /**
     * @param pipeline the triage pipeline, the one {@code ct-triage analyze} runs too
     * @param destinations names of the delivery destinations each new result is owed to
     */
    public SeriesTriage(NodeDatabase database, TriagePipeline pipeline, Path results, List<String> destinations,
            Clock clock) {
        this(database, pipeline, results, destinations, clock, NodeObserver.NONE);
    }

    /**
     * @param pipeline the triage pipeline, the one {@code ct-triage analyze} runs too
     * @param destinations names of the delivery destinations each new result is owed to
     * @param observer told of each result once it is recorded
     */
    public SeriesTriage(NodeDatabase database, TriagePipeline pipeline, Path results, List<String> destinations,
            Clock clock, NodeObserver observer) {
        this.observer = observer;
        this.database = database;
        this.seriesRepository = new SeriesRepository(database);
        this.instanceRepository = new InstanceRepository(database);
        this.resultRepository = new ResultRepository(database);
        this.pipeline = pipeline;
        this.results = results;
        this.destinations = List.copyOf(destinations);
        this.clock = clock;
    }

    /**
     * The series' current input: its instances with their revisions and the hash that identifies
     * a result, and the result already made for exactly this input, if any.
     *
     * @param series the series
     * @param instances files of the series' instances (ordered by SOP Instance UID)
     * @param inputHash SHA-256 over the SOP Instance UIDs and revisions
     * @param existingResult the result for this input, or null
     * @param removed how many of the instances have no file in the spool (removed by retention and
     *     not received again)
     */
    public record Input(SeriesKey series, List<Path> instances, String inputHash, Long existingResult, int removed) {
    }


    /**
     * What selection made of a study: the series to triage (null when none qualifies) and the
     * decision, with its reason, on every series of the study.
     */
    public record StudySelection(String studyInstanceUid, SeriesKey chosen, SelectionReport report) {
    }

    /**
     * Step 0, the unit of triage being the study: selection over every spooled instance of every
     * series of the study (thinnest, soft-tissue kernel, coverage, with a reason for each). Every
     * series not chosen is marked NOT_TRIAGED with its reason; the chosen one goes through the
     * steps below. A study sent as several reconstructions thus gets one result, one SR, one
     * priority; a later series re-selects, and a result for a newly chosen series supersedes the
     * study's earlier one.
     */
    public StudySelection select(String studyInstanceUid) throws TriageException {
        List<Path> files = new ArrayList<>();
        List<String> seriesOfStudy = new ArrayList<>();
        database.transaction(c -> {
            seriesOfStudy.addAll(SeriesRepository.ofStudy(c, studyInstanceUid));
            files.addAll(InstanceRepository.spooledFilesOfStudy(c, studyInstanceUid));
            return null;
        });
        SelectionReport report = new SeriesSelector(pipeline.selection(), pipeline.assembly()).select(
                new DicomScanner().scanFiles(files.stream().filter(Files::exists).toList(), pipeline.pool()));
        SeriesKey chosen = report.selected().map(d -> new SeriesKey(studyInstanceUid, d.seriesInstanceUid()))
                .orElse(null);
        for (String series : seriesOfStudy) {
            if (chosen != null && chosen.seriesInstanceUid().equals(series)) {
                continue;
            }
            String reason = report.decisions().stream().filter(d -> d.seriesInstanceUid().equals(series))
                    .map(d -> (d.code() == null ? "" : d.code().code() + " ") + d.reason()).distinct()
                    .reduce((a, b) -> a + "; " + b)
                    .orElse(ErrorCode.NO_ELIGIBLE_SERIES.code() + " no readable CT image in this series");
            markSeries(new SeriesKey(studyInstanceUid, series), SeriesState.NOT_TRIAGED, reason);
        }
        LOG.info("study {}: {} series, {}", studyInstanceUid, seriesOfStudy.size(),
                chosen == null ? "none qualifies" : "series " + chosen.seriesInstanceUid() + " chosen");
        return new StudySelection(studyInstanceUid, chosen, report);
    }

    /** When no series of the study qualifies: each has its reason already; no SR is made. */
    public Outcome noSeriesQualifies(StudySelection selection) {
        String reason = ErrorCode.NO_ELIGIBLE_SERIES.code() + " study " + selection.studyInstanceUid() + ": "
                + selection.report().decisions().size() + " series considered, none qualifies";
        LOG.warn("{}", reason);
        return new NotTriaged(reason);
    }

    /** When the study's last instance was recorded (its series' latest), or null for an unknown study. */
    public java.time.Instant lastReceived(String studyInstanceUid) throws TriageException {
        return seriesRepository.lastReceivedOfStudy(studyInstanceUid);
    }

    /**
     * When the study's triage failed with an exception: every series of it still RECEIVING is
     * marked NOT_TRIAGED with the failure's code, as {@link #failed(SeriesKey, Exception)} does.
     */
    public Outcome failedStudy(String studyInstanceUid, Exception failure) {
        List<String> receiving = new ArrayList<>();
        try {
            receiving.addAll(seriesRepository.ofStudyInState(studyInstanceUid, SeriesState.RECEIVING));
        } catch (TriageException e) {
            LOG.error("study {}: its series could not be read to mark them: {}", studyInstanceUid, e.getMessage());
        }
        Outcome outcome = new NotTriaged(ErrorCode.TRIAGE_FAILED.code() + " " + failure);
        for (String series : receiving) {
            outcome = failed(new SeriesKey(studyInstanceUid, series), failure);
        }
        if (receiving.isEmpty()) {
            LOG.error("study {} not triaged: {}", studyInstanceUid, failure.toString(), failure);
        }
        return outcome;
    }

    /**
     * In a cluster: each new result's deliveries are also written to the outbox for the broker's delivery queue
     * ({@link StudyCompletion#DELIVERY_QUEUE}), so that any worker may attempt them at once.
     */
    public void announceDeliveries(boolean on) {
        this.announceDeliveries = on;
    }

    /** Step 1: the current input of the series. */
    public Input input(SeriesKey series) throws TriageException {
        List<Instance> instances = instanceRepository.ofSeries(series);
        String inputHash = inputHash(instances);
        // A file can also be missing with its row still marked spooled: retention interrupted by a crash.
        int removed = (int) instances.stream().filter(i -> !i.spooled() || !Files.exists(i.path())).count();
        return new Input(series, instances.stream().map(Instance::path).toList(), inputHash,
                instances.isEmpty() ? null : existingResult(series, inputHash), removed);
    }

    /**
     * When a changed input includes instances retention removed: the series is not triaged from
     * the rest of them (an SR from part of a series would supersede the one from all of it).
     */
    public Outcome incomplete(Input input) throws TriageException {
        String reason = ErrorCode.SPOOL_PURGED.code() + " " + input.removed() + " of " + input.instances().size()
                + " instances were removed from the spool (spool.retention) and not received again;"
                + " send the whole series again to triage it";
        markSeries(input.series(), SeriesState.NOT_TRIAGED, reason);
        LOG.warn("series {} not triaged: {}", input.series().key(), reason);
        return new NotTriaged(reason);
    }

    /** When the input needs no new result: its existing result (and the deliveries it still owes). */
    public Outcome unchanged(Input input) throws TriageException {
        if (input.instances().isEmpty()) {
            return new NotTriaged(ErrorCode.NO_SUCH_INPUT.code() + " no instances recorded for series "
                    + input.series().key());
        }
        markSeries(input.series(), SeriesState.TRIAGED, null);
        return new Triaged(input.existingResult(), false, pending(input.existingResult()));
    }

    /** Step 2: series selection and volume assembly over the recorded files. */
    public StudyVolumeBuilder.Outcome volume(Input input) {
        LOG.info("series {}: triage of {} instances started", input.series().key(), input.instances().size());
        return pipeline.volume(input.instances());
    }

    /** When no volume could be built: the series is marked with the reason (no SR is made). */
    public Outcome notBuilt(Input input, StudyVolumeBuilder.NotBuilt notBuilt) throws TriageException {
        String reason = notBuilt.reason().getMessage();
        markSeries(input.series(), SeriesState.NOT_TRIAGED, reason);
        LOG.warn("{} series {} not triaged: {}", ErrorCode.TRIAGE_FAILED.code(), input.series().key(), reason);
        return new NotTriaged(reason);
    }

    /**
     * When any step failed with an exception: the series is marked NOT_TRIAGED with the
     * failure's code (TRIAGE-0614 for an uncoded one) so that nothing sends it back into the
     * same failure; it is triaged again only when its input changes (an instance received).
     * An uncoded failure is a defect, so its stack trace is logged, once.
     */
    public Outcome failed(SeriesKey series, Exception failure) {
        String reason = failure instanceof TriageException t ? t.getMessage()
                : ErrorCode.TRIAGE_FAILED.code() + " triage failed unexpectedly: " + failure;
        if (failure instanceof TriageException) {
            LOG.warn("series {} not triaged: {}", series.key(), reason);
        } else {
            LOG.error("series {} not triaged: {}", series.key(), reason, failure);
        }
        try {
            markSeries(series, SeriesState.NOT_TRIAGED, reason);
        } catch (TriageException e) {
            // The database is failing too: the series stays RECEIVING and is retried at restart.
            LOG.error("series {} could not be marked not triaged: {}", series.key(), e.getMessage());
        }
        return new NotTriaged(reason);
    }

    /** Step 3: inference. */
    public InferenceEngine.Analysis infer(StudyVolumeBuilder.Built built) throws TriageException {
        return pipeline.infer(built);
    }

    /** Step 4: the SR written, the result and the deliveries it owes recorded in one transaction. */
    public Triaged record(Input input, StudyVolumeBuilder.Built volume, InferenceEngine.Analysis analysis)
            throws TriageException {
        TriageResult result = analysis.result();
        SeriesKey series = input.series();
        String inputHash = input.inputHash();
        Path srFile;
        String srUid;
        TriagePipeline.ResultObjects objects;
        String sourceJson;
        java.util.Map<String, String> exported;
        try {
            SourceStudy source = pipeline.source(volume);
            exported = new java.util.LinkedHashMap<>();
            for (String keyword : EXPORTED_SOURCE_ATTRIBUTES) {
                exported.put(keyword, source.get(keyword));
            }
            sourceJson = JSON.writeValueAsString(exported);
            // Observers (audit trail, the troubleshooting patient-data log) also get who the patient is.
            for (String keyword : OBSERVED_PATIENT_ATTRIBUTES) {
                exported.put(keyword, source.get(keyword));
            }
            Path folder = results.resolve(series.studyInstanceUid()).resolve(series.seriesInstanceUid());
            Files.createDirectories(folder);
            // The SR with the organ SEG and the key-image KOS it references, all three sent and superseded together.
            objects = pipeline.writeResultObjects(source, volume, analysis, predecessor(series),
                    supersededObjects(series), seriesSelection(series, volume), folder,
                    TriagePipeline.FileNames.SOP_INSTANCE_UID);
            srFile = objects.sr().file();
            srUid = objects.sr().sopInstanceUid();
            pipeline.writeKeyImages(volume.volume(), analysis, srFile);
        } catch (Exception e) {
            throw new TriageException(ErrorCode.TRIAGE_FAILED, "writing the SR of series " + series.key() + " failed: "
                    + e.getMessage(), e);
        }
        String json;
        try {
            json = JSON.writeValueAsString(result);
        } catch (Exception e) {
            throw new TriageException(ErrorCode.TRIAGE_FAILED, "serialising the result failed: " + e.getMessage(), e);
        }
        java.time.Instant now = clock.instant();
        try {
            ResultRepository.NewResult row = new ResultRepository.NewResult(series, inputHash, srUid, srFile, json,
                    result.suggestedPriority().fhirCode(), now, sourceJson, objects.all());
            Triaged triaged = database.transaction(c -> {
                // One current result per study: a new one supersedes the study's, whichever series it came from.
                Long previous = ResultRepository.currentOfStudy(c, series.studyInstanceUid());
                long id = ResultRepository.insert(c, row);
                if (previous != null) {
                    ResultRepository.supersede(c, previous, id);
                }
                List<Long> deliveries = DeliveryLedger.owe(c, id, destinations, now);
                if (announceDeliveries) {
                    // Clustered: each delivery also goes to the broker's delivery queue, in this transaction.
                    for (long delivery : deliveries) {
                        Outbox.add(c, StudyCompletion.DELIVERY_QUEUE, Long.toString(delivery), now);
                    }
                }
                // The worklist's priority policy, atomically with the result: raised, never lowered.
                WorklistRepository.resultRecorded(c, series.studyInstanceUid(), result.suggestedPriority(),
                        priorityCauses(result), now);
                SeriesRepository.mark(c, series, SeriesState.TRIAGED, volume.report().selected()
                        .map(d -> "selected: " + d.reason()).orElse(null));
                return new Triaged(id, true, deliveries);
            });
            for (String note : objects.notes()) {
                LOG.info("series {}: {}", series.key(), note);
            }
            LOG.info("series {} triaged: priority {}, SR {}{}{}{}{}", series.key(),
                    result.suggestedPriority().fhirCode(), srUid,
                    objects.seg().map(o -> ", SEG " + o.sopInstanceUid()).orElse(""),
                    objects.kos().map(o -> ", KOS " + o.sopInstanceUid()).orElse(""),
                    objects.rejection().map(o -> ", rejection note " + o.sopInstanceUid() + " withdrawing "
                            + o.rejects().size() + " superseded objects").orElse(""),
                    triaged.pendingDeliveries().isEmpty() ? "" : ", " + triaged.pendingDeliveries().size()
                            + " deliveries queued");
            observe(series, triaged.resultId(), srUid, result, exported, input.instances().size(), now);
            return triaged;
        } catch (TriageException e) {
            // A concurrent triage of the same input won the unique constraint: use its result.
            Long raced = existingResult(series, inputHash);
            if (raced != null) {
                return new Triaged(raced, false, pending(raced));
            }
            throw e;
        }
    }

    /** The findings called present whose severity is the result's priority: what made it so. */
    static List<String> priorityCauses(TriageResult result) {
        return result.presentFindings().stream().filter(f -> f.severity() == result.suggestedPriority())
                .map(org.cttriage.core.domain.FindingResult::id).toList();
    }

    private void observe(SeriesKey series, long resultId, String srUid, TriageResult result,
            java.util.Map<String, String> source, int instances, java.time.Instant written) {
        java.time.Duration latency = java.time.Duration.ZERO;
        try {
            java.time.Instant last = lastReceived(series.studyInstanceUid());
            if (last != null && last.isBefore(written)) {
                latency = java.time.Duration.between(last, written);
            }
        } catch (TriageException e) {
            LOG.warn("series {}: its last instance's time could not be read for the metrics: {}", series.key(),
                    e.getMessage());
        }
        observer.triaged(new NodeObserver.Triaged(series, resultId, srUid, result.suggestedPriority(),
                java.time.Duration.ofMillis(result.timingsMillis().getOrDefault("total", 0L)), latency,
                java.util.Collections.unmodifiableMap(source), instances));
    }

    /**
     * What the SR says of the study's series: the one used and why, then each other one and why not (the
     * reasons {@link #select} recorded).
     */
    private List<String> seriesSelection(SeriesKey chosen, StudyVolumeBuilder.Built volume) throws TriageException {
        List<SeriesRepository.SeriesSummary> all = database.transaction(
                c -> SeriesRepository.summariesOfStudy(c, chosen.studyInstanceUid()));
        List<String> lines = new ArrayList<>();
        lines.add("Series used: " + chosen.seriesInstanceUid()
                + volume.report().selected().map(d -> " (" + d.reason() + ")").orElse(""));
        for (SeriesRepository.SeriesSummary s : all) {
            if (!s.seriesInstanceUid().equals(chosen.seriesInstanceUid())) {
                lines.add("Series not used: " + s.seriesInstanceUid() + (s.reason() == null ? "" : " (" + s.reason() + ")"));
            }
        }
        return lines;
    }

    /** The current SR of the series, which a new result supersedes. */
    private java.util.Optional<TriageSrWriter.Predecessor> predecessor(SeriesKey series) throws Exception {
        String previousSr = resultRepository.currentSrPathOfStudy(series.studyInstanceUid());
        if (previousSr == null || !Files.isReadable(Path.of(previousSr))) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(TriageSrWriter.Predecessor.of(Path.of(previousSr)));
    }

    /**
     * The objects of the study's current result, which a new result supersedes and its rejection note withdraws:
     * those recorded with it, or for a result recorded before the objects were (migration V5) its SR alone.
     */
    private List<ResultObject> supersededObjects(SeriesKey series) throws Exception {
        java.util.Optional<ResultRepository.CurrentDetail> current = resultRepository.currentDetail(
                series.studyInstanceUid());
        if (current.isEmpty()) {
            return List.of();
        }
        if (!current.get().objects().isEmpty()) {
            return current.get().objects();
        }
        java.util.Optional<TriageSrWriter.Predecessor> sr = predecessor(series);
        return sr.map(p -> List.of(new ResultObject(ResultObject.SR, p.sopClassUid(), p.sopInstanceUid(),
                p.seriesInstanceUid(), Path.of(current.get().srPath())))).orElse(List.of());
    }

    /** When the series' last instance was recorded, or null for an unknown series. */
    public java.time.Instant lastReceived(SeriesKey series) throws TriageException {
        return seriesRepository.lastReceived(series);
    }

    private Long existingResult(SeriesKey series, String inputHash) throws TriageException {
        return resultRepository.forInput(series, inputHash);
    }

    private List<Long> pending(long resultId) throws TriageException {
        return new DeliveryLedger(database, clock).pending(resultId);
    }


    private void markSeries(SeriesKey series, SeriesState state, String reason) throws TriageException {
        seriesRepository.mark(series, state, reason);
    }

    private static String inputHash(List<Instance> instances) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (Instance i : instances) {
                digest.update((i.sopInstanceUid() + ":" + i.revision() + "\n").getBytes(StandardCharsets.US_ASCII));
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
        }
    }
}
