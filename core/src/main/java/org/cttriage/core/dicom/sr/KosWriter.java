package org.cttriage.core.dicom.sr;

import static org.cttriage.core.dicom.sr.DerivedObjects.put;
import static org.cttriage.core.dicom.sr.SrCodes.item;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.ContentItem;
import com.pixelmed.dicom.ContentItemFactory;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.StructuredReport;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.cttriage.core.domain.CodedConcept;
import org.cttriage.core.domain.FindingLocation;
import org.cttriage.core.domain.FindingResult;
import org.cttriage.core.domain.ResultObject;
import org.cttriage.core.domain.TriageResult;

/**
 * The Key Object Selection document (TID 2010, title (113000, DCM, "Of Interest")) that makes a PACS show
 * "key images" for the study: the slice of each finding called present, with every such finding named
 * in its Key Object Description. None when no finding is present: a KOS selects images for a reason,
 * and "nothing found" is the SR's to say, not a selection of arbitrary slices. Same study as the source,
 * a series of its own; UIDs derive from the input as the SR's do.
 */
public final class KosWriter {
    private static final String SOURCE_AE = "CTTRIAGE";
    private final SrOptions options;
    private final ContentItemFactory factory = new ContentItemFactory();

    public KosWriter(SrOptions options) {
        this.options = options;
    }

    /**
     * A KOS built.
     *
     * @param list the data set, with file meta information
     * @param sopInstanceUid its SOP Instance UID
     * @param seriesInstanceUid its series
     * @param images the images it selects, each once
     */
    public record Kos(AttributeList list, String sopInstanceUid, String seriesInstanceUid, List<KeyImage> images) {
    }

    /**
     * One selected image and the findings that chose it.
     *
     * @param sopClassUid the image's SOP Class UID
     * @param sopInstanceUid the image's SOP Instance UID
     * @param frameNumber its frame (0: single-frame)
     * @param findings ids of the findings whose slice it is
     */
    public record KeyImage(String sopClassUid, String sopInstanceUid, int frameNumber, List<String> findings) {
    }

    /** The KOS of {@code result}'s present findings that have a location; empty when none has. */
    public Optional<Kos> build(SourceStudy source, TriageResult result) throws DicomException {
        Map<String, List<String>> findingsOf = new LinkedHashMap<>();
        Map<String, FindingLocation> locationOf = new LinkedHashMap<>();
        List<String> lines = new ArrayList<>();
        for (FindingResult f : result.presentFindings()) {
            FindingLocation l = f.location();
            if (l == null) {
                continue;
            }
            String key = l.sopInstanceUid() + "#" + l.frameNumber();
            locationOf.putIfAbsent(key, l);
            findingsOf.computeIfAbsent(key, k -> new ArrayList<>()).add(f.id());
            lines.add(f.finding().meaning() + " (" + f.organCode().meaning() + ", " + f.id() + ", p="
                    + String.format(java.util.Locale.ROOT, "%.2f", f.probability()) + "): image " + l.sopInstanceUid()
                    + (l.frameNumber() > 0 ? " frame " + l.frameNumber() : "")
                    + (FindingLocation.ORGAN_CENTRE.equals(l.method()) ? " (slice through the organ's centre)" : ""));
        }
        if (lines.isEmpty()) {
            return Optional.empty();
        }
        String study = source.get("StudyInstanceUID");
        String series = source.seriesInstanceUid();
        StringBuilder inputs = new StringBuilder();
        source.instances().forEach(i -> inputs.append(i.sopInstanceUid()).append('\\'));
        String sopInstanceUid = TriageSrWriter.uid("kos-instance", study, series, result.model().packageSha256(),
                inputs.toString());
        String seriesInstanceUid = TriageSrWriter.uid("kos-series", study, series, result.model().name());
        String model = result.model().name() + " " + result.model().version();

        ContentItem root = root(SrCodes.OF_INTEREST, result, model);
        factory.makeTextContentItem(root, "CONTAINS", item(SrCodes.KEY_OBJECT_DESCRIPTION),
                "Findings called present by " + model + " (AI triage, not verified by a physician): "
                        + String.join("; ", lines));
        List<KeyImage> images = new ArrayList<>();
        for (Map.Entry<String, FindingLocation> e : locationOf.entrySet()) {
            FindingLocation l = e.getValue();
            factory.makeImageContentItem(root, "CONTAINS", null, l.sopClassUid(), l.sopInstanceUid(), l.frameNumber(), 0,
                    null, null, null, null);
            images.add(new KeyImage(l.sopClassUid(), l.sopInstanceUid(), l.frameNumber(),
                    List.copyOf(findingsOf.get(e.getKey()))));
        }

        AttributeList list = dataSet(source, root, sopInstanceUid, seriesInstanceUid, options.seriesNumber() + 2,
                "AI key images (" + model + ")", evidence(study, series, images));
        return Optional.of(new Kos(list, sopInstanceUid, seriesInstanceUid, List.copyOf(images)));
    }

    /**
     * The rejection note (IHE IOCM; a KOS titled (113001, DCM, "Rejected for Quality Reasons"), CID 7010) that
     * withdraws the objects of the result {@code result} supersedes: a PACS that implements IOCM (dcm4chee-arc, for
     * one) hides them, so a reader sees the current SR, SEG and KOS only; one that does not stores it as a KOS
     * whose title says what it is. The SR's own Predecessor Documents Sequence still names the SR it replaces.
     * Empty when {@code rejected} is. The SEG is referenced as an IMAGE, the SR and the KOS as COMPOSITE. Its UIDs
     * derive from the objects it rejects and the result's input, so a recomputed result writes the same note.
     *
     * @param rejected the superseded result's objects, all of this study; never one of the new result's own
     */
    public Optional<Rejection> buildRejection(SourceStudy source, TriageResult result, List<ResultObject> rejected)
            throws DicomException {
        if (rejected.isEmpty()) {
            return Optional.empty();
        }
        String study = source.get("StudyInstanceUID");
        StringBuilder inputs = new StringBuilder();
        source.instances().forEach(i -> inputs.append(i.sopInstanceUid()).append('\\'));
        StringBuilder withdrawn = new StringBuilder();
        rejected.forEach(o -> withdrawn.append(o.sopInstanceUid()).append('\\'));
        String sopInstanceUid = TriageSrWriter.uid("rejection-instance", study, source.seriesInstanceUid(),
                result.model().packageSha256(), inputs.toString(), withdrawn.toString());
        String seriesInstanceUid = TriageSrWriter.uid("rejection-series", study, result.model().name());
        String model = result.model().name() + " " + result.model().version();

        ContentItem root = root(SrCodes.REJECTED_FOR_QUALITY_REASONS, result, model);
        factory.makeTextContentItem(root, "CONTAINS", item(SrCodes.KEY_OBJECT_DESCRIPTION),
                "Superseded AI triage result of " + model + ", withdrawn: a newer result of this study (more images"
                        + " received, or another model) replaces its SR, segmentation and key images.");
        Map<String, List<String[]>> bySeries = new LinkedHashMap<>();
        for (ResultObject o : rejected) {
            if (ResultObject.SEG.equals(o.modality())) {
                factory.makeImageContentItem(root, "CONTAINS", null, o.sopClassUid(), o.sopInstanceUid(), 0, 0,
                        null, null, null, null);
            } else {
                factory.makeCompositeContentItem(root, "CONTAINS", null, o.sopClassUid(), o.sopInstanceUid());
            }
            bySeries.computeIfAbsent(o.seriesInstanceUid(), k -> new ArrayList<>())
                    .add(new String[] {o.sopClassUid(), o.sopInstanceUid()});
        }

        AttributeList list = dataSet(source, root, sopInstanceUid, seriesInstanceUid, options.seriesNumber() + 3,
                "AI results withdrawn (" + model + ")", evidence(study, bySeries));
        return Optional.of(new Rejection(list, sopInstanceUid, seriesInstanceUid,
                rejected.stream().map(ResultObject::sopInstanceUid).toList()));
    }

    /**
     * A rejection note built.
     *
     * @param list the data set, with file meta information
     * @param sopInstanceUid its SOP Instance UID
     * @param seriesInstanceUid its series
     * @param rejects the SOP Instance UIDs it rejects
     */
    public record Rejection(AttributeList list, String sopInstanceUid, String seriesInstanceUid, List<String> rejects) {
        public Rejection {
            rejects = List.copyOf(rejects);
        }
    }

    /** Writes a rejection note built by {@link #buildRejection} as {@code file} (via a temporary file and a rename). */
    public ResultObject write(Rejection note, Path file) throws DicomException, IOException {
        DerivedObjects.write(note.list(), file);
        return new ResultObject(ResultObject.KO, SOPClass.KeyObjectSelectionDocumentStorage, note.sopInstanceUid(),
                note.seriesInstanceUid(), file, note.rejects());
    }

    /** The TID 2010 root container titled {@code title}, with the language and the device observer context. */
    private ContentItem root(CodedConcept title, TriageResult result, String model) throws DicomException {
        ContentItem root = factory.makeContainerContentItem(null, null, item(title), true, "DCMR", "2010");
        factory.makeCodeContentItem(root, "HAS CONCEPT MOD", item(SrCodes.LANGUAGE_OF_CONTENT), item(SrCodes.ENGLISH_US));
        factory.makeCodeContentItem(root, "HAS OBS CONTEXT", item(SrCodes.OBSERVER_TYPE), item(SrCodes.DEVICE));
        factory.makeUIDContentItem(root, "HAS OBS CONTEXT", item(SrCodes.DEVICE_OBSERVER_UID),
                TriageSrWriter.deviceUid(result));
        factory.makeTextContentItem(root, "HAS OBS CONTEXT", item(SrCodes.DEVICE_OBSERVER_NAME), result.model().name());
        factory.makeTextContentItem(root, "HAS OBS CONTEXT", item(SrCodes.DEVICE_OBSERVER_MANUFACTURER),
                options.manufacturer());
        factory.makeTextContentItem(root, "HAS OBS CONTEXT", item(SrCodes.DEVICE_OBSERVER_MODEL_NAME), model);
        return root;
    }

    /** The KO data set around {@code root}: the source's patient and study, a series of its own, the evidence. */
    private AttributeList dataSet(SourceStudy source, ContentItem root, String sopInstanceUid, String seriesInstanceUid,
            int seriesNumber, String seriesDescription, SequenceAttribute evidence) throws DicomException {
        AttributeList list = new AttributeList();
        DerivedObjects.copyPatientAndStudy(list, source);
        list.putAll(new StructuredReport(root).getAttributeList());
        put(list, TagFromName.SOPClassUID, SOPClass.KeyObjectSelectionDocumentStorage);
        put(list, TagFromName.SOPInstanceUID, sopInstanceUid);
        put(list, TagFromName.Modality, "KO");
        put(list, TagFromName.SeriesInstanceUID, seriesInstanceUid);
        put(list, TagFromName.SeriesNumber, Integer.toString(seriesNumber));
        put(list, TagFromName.SeriesDescription, seriesDescription);
        list.put(new SequenceAttribute(TagFromName.ReferencedPerformedProcedureStepSequence));
        put(list, TagFromName.Manufacturer, options.manufacturer());
        put(list, TagFromName.InstanceNumber, "1");
        DerivedObjects.contentDateTime(list, source);
        list.put(evidence);
        FileMetaInformation.addFileMetaInformation(list, TransferSyntax.ExplicitVRLittleEndian, SOURCE_AE);
        return list;
    }

    /** Writes a KOS built by {@link #build} into {@code folder} as {@code <SOP Instance UID>.dcm}; returns the file. */
    public Path writeInto(Kos kos, Path folder) throws DicomException, IOException {
        return write(kos, folder.resolve(kos.sopInstanceUid() + ".dcm")).file();
    }

    /** Writes a KOS built by {@link #build} as {@code file} (via a temporary file and a rename). */
    public ResultObject write(Kos kos, Path file) throws DicomException, IOException {
        DerivedObjects.write(kos.list(), file);
        return new ResultObject(ResultObject.KO, SOPClass.KeyObjectSelectionDocumentStorage, kos.sopInstanceUid(),
                kos.seriesInstanceUid(), file);
    }

    private static SequenceAttribute evidence(String study, String series, List<KeyImage> images) throws DicomException {
        List<String[]> sops = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (KeyImage i : images) {
            if (seen.add(i.sopInstanceUid())) {
                sops.add(new String[] {i.sopClassUid(), i.sopInstanceUid()});
            }
        }
        return evidence(study, Map.of(series, sops));
    }

    /** The Current Requested Procedure Evidence Sequence: {SOP Class UID, SOP Instance UID} pairs per series. */
    private static SequenceAttribute evidence(String study, Map<String, List<String[]>> bySeries)
            throws DicomException {
        SequenceAttribute seriesSequence = new SequenceAttribute(TagFromName.ReferencedSeriesSequence);
        for (Map.Entry<String, List<String[]>> e : bySeries.entrySet()) {
            SequenceAttribute sops = new SequenceAttribute(TagFromName.ReferencedSOPSequence);
            for (String[] sop : e.getValue()) {
                AttributeList item = new AttributeList();
                put(item, TagFromName.ReferencedSOPClassUID, sop[0]);
                put(item, TagFromName.ReferencedSOPInstanceUID, sop[1]);
                sops.addItem(item);
            }
            AttributeList seriesItem = new AttributeList();
            put(seriesItem, TagFromName.SeriesInstanceUID, e.getKey());
            seriesItem.put(sops);
            seriesSequence.addItem(seriesItem);
        }
        AttributeList studyItem = new AttributeList();
        put(studyItem, TagFromName.StudyInstanceUID, study);
        studyItem.put(seriesSequence);
        return DerivedObjects.sequence(TagFromName.CurrentRequestedProcedureEvidenceSequence, studyItem);
    }
}
