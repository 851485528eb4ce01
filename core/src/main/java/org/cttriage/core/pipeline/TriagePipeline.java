package org.cttriage.core.pipeline;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import org.cttriage.core.dicom.DicomScanner;
import org.cttriage.core.dicom.sr.KosWriter;
import org.cttriage.core.dicom.sr.SegWriter;
import org.cttriage.core.dicom.sr.SourceStudy;
import org.cttriage.core.dicom.sr.SrOptions;
import org.cttriage.core.dicom.sr.TriageSrWriter;
import org.cttriage.core.domain.ResultObject;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.inference.AbnormalityDictionary;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.core.volume.StudyVolumeBuilder;
import org.cttriage.core.volume.Volume;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The triage pipeline as DESIGN.md draws it, once, for every caller: DICOM files → series selection and volume
 * (header and HU plausibility) → inference → the source study's attributes → the SR. The node
 * ({@code SeriesTriage}, which adds the database, the result's supersession and its deliveries) and
 * {@code ct-triage analyze} (which writes the same SR and result to a folder) both run this object, so what
 * a study gives does not depend on which of them looked at it.
 */
public final class TriagePipeline {
    private static final Logger LOG = LoggerFactory.getLogger(TriagePipeline.class);
    private final InferenceEngine engine;
    private final SelectionPolicy selection;
    private final AssemblyPolicy assembly;
    private final ExecutorService pool;
    private final TriageSrWriter srWriter;
    private final SegWriter segWriter;
    private final KosWriter kosWriter;
    private final boolean rejectSuperseded;

    /**
     * @param engine the model (may be null for a pipeline used only for selection and volumes)
     * @param pool threads for header scanning and volume assembly
     * @param sr the SR's settings
     */
    public TriagePipeline(InferenceEngine engine, SelectionPolicy selection, AssemblyPolicy assembly,
            ExecutorService pool, SrOptions sr) {
        this.engine = engine;
        this.selection = selection;
        this.assembly = assembly;
        this.pool = pool;
        this.srWriter = new TriageSrWriter(sr);
        this.segWriter = new SegWriter(sr);
        this.kosWriter = new KosWriter(sr);
        this.rejectSuperseded = sr.rejectSuperseded();
    }

    public SelectionPolicy selection() {
        return selection;
    }

    public AssemblyPolicy assembly() {
        return assembly;
    }

    public ExecutorService pool() {
        return pool;
    }

    /** Selection and volume over {@code files}: the built volume with its selection report, or why not. */
    public StudyVolumeBuilder.Outcome volume(List<Path> files) {
        return new StudyVolumeBuilder(selection, assembly, pool).build(new DicomScanner().scanFiles(files, pool));
    }

    /** Selection and volume over every DICOM file under {@code folder}. */
    public StudyVolumeBuilder.Outcome volume(Path folder) {
        return new StudyVolumeBuilder(selection, assembly, pool).build(folder);
    }

    /** Inference on the volume with the model's findings and {@code extra} ones (zero-shot prompts). */
    public InferenceEngine.Analysis infer(StudyVolumeBuilder.Built built, List<AbnormalityDictionary.Finding> extra)
            throws TriageException {
        return engine.analyzeWithImage(built.volume(), extra);
    }

    /** Inference with the model's findings. */
    public InferenceEngine.Analysis infer(StudyVolumeBuilder.Built built) throws TriageException {
        return engine.analyzeWithImage(built.volume(), List.of());
    }

    /** The attributes of the source study the SR and the exporters copy (patient, study, accession…). */
    public SourceStudy source(StudyVolumeBuilder.Built built) throws TriageException {
        try {
            return SourceStudy.of(built.report().selected().orElseThrow().plan().slices());
        } catch (Exception e) {
            throw new TriageException(ErrorCode.TRIAGE_FAILED, "reading the source study's attributes failed: "
                    + e.getMessage(), e);
        }
    }

    /** The SR of {@code result} in {@code folder}, named by its SOP Instance UID, superseding {@code predecessor}. */
    public Path writeSr(SourceStudy source, TriageResult result, Optional<TriageSrWriter.Predecessor> predecessor,
            Path folder) throws TriageException {
        return writeSr(source, result, predecessor, List.of(), folder);
    }

    /** As above, the SR also naming the series used and why each other series of the study was not. */
    public Path writeSr(SourceStudy source, TriageResult result, Optional<TriageSrWriter.Predecessor> predecessor,
            List<String> seriesSelection, Path folder) throws TriageException {
        try {
            return srWriter.writeInto(source, result, predecessor, seriesSelection, folder);
        } catch (Exception e) {
            throw srFailed(result, e);
        }
    }

    /**
     * The key images of an analysis beside its SR ({@link KeyImages#file}). A failure is logged
     * (TRIAGE-0623) and costs only the images: the SR and the result stand without them.
     *
     * @return the files written
     */
    public List<Path> writeKeyImages(Volume volume, InferenceEngine.Analysis analysis, Path srFile) {
        try {
            return new KeyImages(engine.modelPackage().dictionary()).write(volume, analysis.segmentation(),
                    analysis.result(), srFile);
        } catch (Exception e) {
            LOG.warn("{} key images of series {} not written: {}", ErrorCode.KEY_IMAGES_NOT_WRITTEN.code(),
                    analysis.result().seriesInstanceUid(), e.toString());
            return List.of();
        }
    }

    /** The SR of {@code result} as {@code file}. */
    public void writeSr(SourceStudy source, TriageResult result, Path file) throws TriageException {
        try {
            srWriter.write(source, result, file);
        } catch (Exception e) {
            throw srFailed(result, e);
        }
    }

    /** How the objects of a result are named in their folder. */
    public enum FileNames {
        /** {@code <SOP Instance UID>.dcm}: the node's result folders, where several results of a study lie side by side. */
        SOP_INSTANCE_UID,
        /** {@code sr.dcm}, {@code seg.dcm}, {@code kos.dcm}: {@code ct-triage analyze --out}, one result per folder. */
        KIND
    }

    /**
     * What a result sends back to the study: the SR, and with it the organ SEG (when the volume's slices are known
     * and an organ was segmented) and the KOS of the key images (when a finding is present); the SR measures and
     * references both.
     *
     * @param sr the SR
     * @param seg the segmentation, if one was written
     * @param kos the key object selection, if one was written
     * @param rejection the rejection note that withdraws the superseded result's objects, if this result
     *     supersedes one (sent last, once the PACS holds the new objects)
     * @param notes why a SEG or KOS was not written (each line starts with its TRIAGE code where it is a fault of
     *     the input), for the log and the operator
     */
    public record ResultObjects(ResultObject sr, Optional<ResultObject> seg, Optional<ResultObject> kos,
            Optional<ResultObject> rejection, List<String> notes) {
        public ResultObjects {
            notes = List.copyOf(notes);
        }

        /** SR, SEG, KOS and the rejection note, those that exist, in the order they are sent. */
        public List<ResultObject> all() {
            List<ResultObject> all = new ArrayList<>();
            all.add(sr);
            seg.ifPresent(all::add);
            kos.ifPresent(all::add);
            rejection.ifPresent(all::add);
            return List.copyOf(all);
        }
    }

    /**
     * Writes the SR of the analysis with its SEG and KOS into {@code folder}: the SEG (organs on the source series'
     * grid) first and the KOS, because the SR references them. A SEG that the input does not allow (no Frame of
     * Reference) is left out with its reason in {@link ResultObjects#notes()}; the SR and KOS are written all the same.
     * When {@code superseded} names the objects of the result this one replaces, a rejection note withdraws those
     * of them that the new result does not write again (same UID: the PACS replaces it anyway).
     */
    public ResultObjects writeResultObjects(SourceStudy source, StudyVolumeBuilder.Built built,
            InferenceEngine.Analysis analysis, Optional<TriageSrWriter.Predecessor> predecessor,
            List<ResultObject> superseded, List<String> seriesSelection, Path folder, FileNames names)
            throws TriageException {
        TriageResult result = analysis.result();
        List<String> notes = new ArrayList<>();
        try {
            Optional<SegWriter.Seg> seg = segmentation(source, built, analysis, notes);
            Optional<KosWriter.Kos> kos = kosWriter.build(source, result);
            if (kos.isEmpty()) {
                notes.add("no KOS: no finding called present has a location");
            }
            Optional<ResultObject> segObject = Optional.empty();
            if (seg.isPresent()) {
                segObject = Optional.of(segWriter.write(seg.get(), file(folder, names, "seg.dcm", seg.get().sopInstanceUid())));
            }
            Optional<ResultObject> kosObject = Optional.empty();
            if (kos.isPresent()) {
                kosObject = Optional.of(kosWriter.write(kos.get(), file(folder, names, "kos.dcm", kos.get().sopInstanceUid())));
            }
            ResultObject sr = srWriter.writeObject(source, result, predecessor, seriesSelection,
                    new TriageSrWriter.Companions(seg, kos), uid -> file(folder, names, "sr.dcm", uid));
            java.util.Set<String> written = new java.util.HashSet<>();
            written.add(sr.sopInstanceUid());
            segObject.ifPresent(o -> written.add(o.sopInstanceUid()));
            kosObject.ifPresent(o -> written.add(o.sopInstanceUid()));
            // A rejection note is never itself rejected (IHE IOCM), nor is an object the new result sends again.
            List<ResultObject> withdrawn = !rejectSuperseded ? List.of() : superseded.stream()
                    .filter(o -> !o.isRejectionNote() && !written.contains(o.sopInstanceUid())).toList();
            Optional<ResultObject> rejection = Optional.empty();
            Optional<KosWriter.Rejection> note = kosWriter.buildRejection(source, result, withdrawn);
            if (note.isPresent()) {
                rejection = Optional.of(kosWriter.write(note.get(),
                        file(folder, names, "rejection.dcm", note.get().sopInstanceUid())));
            }
            return new ResultObjects(sr, segObject, kosObject, rejection, notes);
        } catch (TriageException e) {
            throw e;
        } catch (Exception e) {
            throw srFailed(result, e);
        }
    }

    /** The SEG of the analysis' organs on the source grid, or why there is none (added to {@code notes}). */
    private Optional<SegWriter.Seg> segmentation(SourceStudy source, StudyVolumeBuilder.Built built,
            InferenceEngine.Analysis analysis, List<String> notes) throws Exception {
        if (analysis.segmentation() == null || engine == null) {
            notes.add("no SEG: the analysis has no organ segmentation");
            return Optional.empty();
        }
        if (built.volume().slices().isEmpty()) {
            notes.add("no SEG: the volume's source images are not known");
            return Optional.empty();
        }
        List<SegWriter.Organ> organs = engine.modelPackage().dictionary().organs().values().stream()
                .map(o -> new SegWriter.Organ(o.id(), o.label(), o.code())).toList();
        byte[] labels = analysis.segmentation().onGrid(built.volume().geometry());
        try {
            Optional<SegWriter.Seg> seg = segWriter.build(source, built.volume().geometry(), built.volume().slices(),
                    labels, organs, analysis.result().model());
            if (seg.isEmpty()) {
                notes.add("no SEG: the model segmented no organ voxel in this series");
            }
            return seg;
        } catch (TriageException e) {
            // The input does not allow a SEG; the SR and the KOS do not depend on it.
            notes.add(e.getMessage());
            return Optional.empty();
        }
    }

    private static Path file(Path folder, FileNames names, String kind, String sopInstanceUid) {
        return folder.resolve(names == FileNames.KIND ? kind : sopInstanceUid + ".dcm");
    }

    private static TriageException srFailed(TriageResult result, Exception e) {
        return new TriageException(ErrorCode.TRIAGE_FAILED, "writing the SR of series " + result.studyInstanceUid()
                + "/" + result.seriesInstanceUid() + " failed: " + e.getMessage(), e);
    }
}
