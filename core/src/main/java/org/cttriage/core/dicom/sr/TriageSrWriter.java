package org.cttriage.core.dicom.sr;

import static org.cttriage.core.dicom.sr.SrCodes.item;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.CodedSequenceItem;
import com.pixelmed.dicom.ContentItem;
import com.pixelmed.dicom.ContentItemFactory;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.SpecificCharacterSet;
import com.pixelmed.dicom.StructuredReport;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;
import org.cttriage.core.domain.CodedConcept;
import org.cttriage.core.domain.FindingLocation;
import org.cttriage.core.domain.FindingResult;
import org.cttriage.core.domain.ResultObject;
import org.cttriage.core.domain.TriageResult;

/**
 * Builds the Comprehensive 3D SR (TID 1500, IHE AIR) for one triage result: same study as the
 * source, a new series, one measurement group per finding. Deterministic: the same source
 * instances and model package give a byte-identical file with the same SOP Instance UID;
 * a re-triage over more instances gives a new SOP Instance with the same tracking UIDs.
 */
public final class TriageSrWriter {
    private static final String SOURCE_AE = "CTTRIAGE";
    private final SrOptions options;
    private final ContentItemFactory factory = new ContentItemFactory();

    public TriageSrWriter(SrOptions options) {
        this.options = options;
    }

    /**
     * An earlier SR of the same series that a new one replaces (changed input): referenced in the
     * Predecessor Documents Sequence (0040,A360), as PS3.3 C.17.2 asks of a revised document.
     *
     * @param studyInstanceUid the earlier SR's study
     * @param seriesInstanceUid the earlier SR's series
     * @param sopClassUid the earlier SR's SOP class
     * @param sopInstanceUid the earlier SR's SOP instance
     */
    public record Predecessor(String studyInstanceUid, String seriesInstanceUid, String sopClassUid,
            String sopInstanceUid) {
        /** The identity of the SR in {@code srFile}, read up to its content tree. */
        public static Predecessor of(Path srFile) throws IOException, DicomException {
            AttributeList previous = new AttributeList();
            previous.read(srFile.toString(), TagFromName.ContentSequence);
            return new Predecessor(
                    Attribute.getSingleStringValueOrEmptyString(previous, TagFromName.StudyInstanceUID),
                    Attribute.getSingleStringValueOrEmptyString(previous, TagFromName.SeriesInstanceUID),
                    Attribute.getSingleStringValueOrEmptyString(previous, TagFromName.SOPClassUID),
                    Attribute.getSingleStringValueOrEmptyString(previous, TagFromName.SOPInstanceUID));
        }
    }

    /**
     * The SEG and the KOS written with the SR, which it references: the SEG's segments measured by TID 1411
     * volumetric groups, both in the Current Requested Procedure Evidence Sequence (they are made for the same
     * requested procedure as the SR, in its study).
     *
     * @param seg the organ segmentation, if one was made
     * @param kos the key images, if any finding is present
     */
    public record Companions(java.util.Optional<SegWriter.Seg> seg, java.util.Optional<KosWriter.Kos> kos) {
        /** An SR on its own. */
        public static final Companions NONE = new Companions(java.util.Optional.empty(), java.util.Optional.empty());
    }

    /**
     * Builds the SR and writes it into {@code folder} as {@code <SOP Instance UID>.dcm} (via a
     * temporary file and a rename); returns that file. The UID derives from the input, so the same
     * input writes the same file again.
     */
    public Path writeInto(SourceStudy source, TriageResult result, java.util.Optional<Predecessor> predecessor,
                          Path folder) throws DicomException, IOException {
        return writeInto(source, result, predecessor, List.of(), folder);
    }

    /**
     * As {@link #writeInto(SourceStudy, TriageResult, java.util.Optional, Path)}, the SR also saying which of the
     * study's series was used and why the others were not: one TEXT item "Series selection" per line, under the
     * qualitative evaluations.
     */
    public Path writeInto(SourceStudy source, TriageResult result, java.util.Optional<Predecessor> predecessor,
                          List<String> seriesSelection, Path folder) throws DicomException, IOException {
        return writeInto(source, result, predecessor, seriesSelection, Companions.NONE, folder);
    }

    /** As above, the SR also measuring and referencing the SEG and referencing the KOS written with it. */
    public Path writeInto(SourceStudy source, TriageResult result, java.util.Optional<Predecessor> predecessor,
                          List<String> seriesSelection, Companions companions, Path folder)
            throws DicomException, IOException {
        AttributeList list = build(source, result, predecessor, seriesSelection, companions);
        Path file = folder.resolve(Attribute.getSingleStringValueOrEmptyString(list, TagFromName.SOPInstanceUID)
                + ".dcm");
        write(list, file);
        return file;
    }

    /**
     * Builds the SR with its companions and writes it as {@code fileForUid.apply(<SOP Instance UID>)} (via a temporary
     * file and a rename).
     */
    public ResultObject writeObject(SourceStudy source, TriageResult result, java.util.Optional<Predecessor> predecessor,
            List<String> seriesSelection, Companions companions, java.util.function.Function<String, Path> fileForUid)
            throws DicomException, IOException {
        AttributeList list = build(source, result, predecessor, seriesSelection, companions);
        String uid = Attribute.getSingleStringValueOrEmptyString(list, TagFromName.SOPInstanceUID);
        Path file = fileForUid.apply(uid);
        write(list, file);
        return new ResultObject(ResultObject.SR, SOPClass.Comprehensive3DSRStorage, uid,
                Attribute.getSingleStringValueOrEmptyString(list, TagFromName.SeriesInstanceUID), file);
    }

    /** The SR data set (with file meta information). */
    public AttributeList build(SourceStudy source, TriageResult result) throws DicomException {
        return build(source, result, java.util.Optional.empty());
    }

    /** The SR data set, superseding {@code predecessor} when present. */
    public AttributeList build(SourceStudy source, TriageResult result, java.util.Optional<Predecessor> predecessor)
            throws DicomException {
        return build(source, result, predecessor, List.of());
    }

    /** The SR data set, superseding {@code predecessor} when present, with the study's series selection. */
    public AttributeList build(SourceStudy source, TriageResult result, java.util.Optional<Predecessor> predecessor,
            List<String> seriesSelection) throws DicomException {
        return build(source, result, predecessor, seriesSelection, Companions.NONE);
    }

    /** The SR data set with the SEG and KOS written with it. */
    public AttributeList build(SourceStudy source, TriageResult result, java.util.Optional<Predecessor> predecessor,
            List<String> seriesSelection, Companions companions) throws DicomException {
        String study = source.get("StudyInstanceUID");
        String series = source.seriesInstanceUid();
        String model = result.model().name() + " " + result.model().version();
        StringBuilder inputs = new StringBuilder();
        source.instances().forEach(i -> inputs.append(i.sopInstanceUid()).append('\\'));

        AttributeList list = new AttributeList();
        String charset = source.get("SpecificCharacterSet");
        if (!charset.isEmpty()) {
            put(list, TagFromName.SpecificCharacterSet, charset.split("\\\\"));
        }
        // StructuredReport gathers the whole tree; the root item alone holds no ContentSequence.
        list.putAll(new StructuredReport(content(source, result, model, seriesSelection, companions)).getAttributeList());

        put(list, TagFromName.SOPClassUID, SOPClass.Comprehensive3DSRStorage);
        put(list, TagFromName.SOPInstanceUID, uid("sr-instance", study, series, result.model().packageSha256(),
                inputs.toString()));
        for (AttributeTag t : SourceStudy.COPIED) {
            if (t.equals(TagFromName.SpecificCharacterSet)) {
                continue;
            }
            String value = source.get(AttributeList.getDictionary().getNameFromTag(t));
            if (!value.isEmpty() || isType2(t)) {
                put(list, t, value);
            }
        }
        put(list, TagFromName.Modality, "SR");
        put(list, TagFromName.SeriesInstanceUID, uid("sr-series", study, series, result.model().name()));
        put(list, TagFromName.SeriesNumber, Integer.toString(options.seriesNumber()));
        put(list, TagFromName.SeriesDescription, "AI triage (" + model + ")");
        list.put(new SequenceAttribute(TagFromName.ReferencedPerformedProcedureStepSequence));
        put(list, TagFromName.Manufacturer, options.manufacturer());
        put(list, TagFromName.ManufacturerModelName, result.model().name());
        put(list, TagFromName.DeviceSerialNumber, options.deviceSerialNumber());
        put(list, TagFromName.SoftwareVersions, result.model().version());
        if (!options.institutionName().isEmpty()) {
            put(list, TagFromName.InstitutionName, options.institutionName());
        }
        put(list, TagFromName.InstanceNumber, "1");
        put(list, TagFromName.CompletionFlag, "COMPLETE");
        put(list, TagFromName.VerificationFlag, "UNVERIFIED");
        // Content date/time are the study's, so that the same input always gives the same bytes.
        put(list, TagFromName.ContentDate, source.get("StudyDate").isEmpty() ? "19000101" : source.get("StudyDate"));
        put(list, TagFromName.ContentTime, source.get("StudyTime").isEmpty() ? "000000" : source.get("StudyTime"));
        list.put(new SequenceAttribute(TagFromName.PerformedProcedureCodeSequence));
        list.put(evidence(study, series, source, companions));
        if (predecessor.isPresent()) {
            list.put(predecessors(predecessor.get()));
        }
        list.put(contributingEquipment(result));
        FileMetaInformation.addFileMetaInformation(list, TransferSyntax.ExplicitVRLittleEndian, SOURCE_AE);
        return list;
    }

    /** Writes the SR to {@code file} (via a temporary file and a rename). */
    public void write(SourceStudy source, TriageResult result, Path file) throws DicomException, IOException {
        write(build(source, result), file);
    }

    /** Writes an SR built by {@link #build} to {@code file} (via a temporary file and a rename). */
    public void write(AttributeList list, Path file) throws DicomException, IOException {
        Path part = file.resolveSibling(file.getFileName() + ".part");
        list.write(part.toFile(), TransferSyntax.ExplicitVRLittleEndian, true, true);
        Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private ContentItem content(SourceStudy source, TriageResult result, String model, List<String> seriesSelection,
            Companions companions) throws DicomException {
        String study = source.get("StudyInstanceUID");
        String series = source.seriesInstanceUid();
        ContentItem root = factory.makeContainerContentItem(null, null, item(SrCodes.IMAGING_MEASUREMENT_REPORT), true,
                "DCMR", "1500");
        factory.makeCodeContentItem(root, "HAS CONCEPT MOD", item(SrCodes.LANGUAGE_OF_CONTENT), item(SrCodes.ENGLISH_US));
        factory.makeCodeContentItem(root, "HAS OBS CONTEXT", item(SrCodes.OBSERVER_TYPE), item(SrCodes.DEVICE));
        factory.makeUIDContentItem(root, "HAS OBS CONTEXT", item(SrCodes.DEVICE_OBSERVER_UID), deviceUid(result));
        factory.makeTextContentItem(root, "HAS OBS CONTEXT", item(SrCodes.DEVICE_OBSERVER_NAME), result.model().name());
        factory.makeTextContentItem(root, "HAS OBS CONTEXT", item(SrCodes.DEVICE_OBSERVER_MANUFACTURER),
                options.manufacturer());
        factory.makeTextContentItem(root, "HAS OBS CONTEXT", item(SrCodes.DEVICE_OBSERVER_MODEL_NAME), model);
        factory.makeCodeContentItem(root, "HAS CONCEPT MOD", item(SrCodes.PROCEDURE_REPORTED),
                item(SrCodes.CT_UNSPECIFIED_BODY_REGION));

        ContentItem library = factory.makeContainerContentItem(root, "CONTAINS", item(SrCodes.IMAGE_LIBRARY), true);
        ContentItem group = factory.makeContainerContentItem(library, "CONTAINS", item(SrCodes.IMAGE_LIBRARY_GROUP), true);
        for (SourceStudy.ReferencedInstance i : source.instances()) {
            factory.makeImageContentItem(group, "CONTAINS", null, i.sopClassUid(), i.sopInstanceUid(), 0, 0, null, null,
                    null, null);
        }

        ContentItem measurements = factory.makeContainerContentItem(root, "CONTAINS", item(SrCodes.IMAGING_MEASUREMENTS),
                true);
        java.util.Map<String, SegWriter.Segment> segmentOf = new java.util.HashMap<>();
        companions.seg().ifPresent(seg -> seg.segments().forEach(s -> segmentOf.put(s.organ().id(), s)));
        for (FindingResult f : result.findings()) {
            ContentItem g = factory.makeContainerContentItem(measurements, "CONTAINS", item(SrCodes.MEASUREMENT_GROUP), true);
            factory.makeTextContentItem(g, "HAS OBS CONTEXT", item(SrCodes.TRACKING_IDENTIFIER), f.id());
            factory.makeUIDContentItem(g, "HAS OBS CONTEXT", item(SrCodes.TRACKING_UID),
                    uid("tracking", study, series, f.id(), model));
            factory.makeCodeContentItem(g, "CONTAINS", item(SrCodes.FINDING), item(f.finding()));
            SegWriter.Segment organ = segmentOf.get(f.organ());
            if (organ != null) {
                // The model scores a finding on the embedding pooled inside its organ's mask: that segment is the
                // region the evaluation was made over, so with a SEG each finding group is a TID 1411 group of it.
                segmentReference(g, companions.seg().get(), organ);
            }
            factory.makeTextContentItem(g, "HAS CONCEPT MOD", item(SrCodes.ALGORITHM_NAME), result.model().name());
            factory.makeTextContentItem(g, "HAS CONCEPT MOD", item(SrCodes.ALGORITHM_VERSION), result.model().version());
            factory.makeCodeContentItem(g, "HAS CONCEPT MOD", item(SrCodes.FINDING_SITE), item(f.organCode()));
            if (f.reportable()) {
                // A finding the model cannot decide gets no presence: "Absent" would be a claim it cannot make.
                factory.makeCodeContentItem(g, "CONTAINS", item(SrCodes.PRESENCE),
                        item(f.present() ? SrCodes.PRESENT : SrCodes.ABSENT));
            }
            factory.makeNumericContentItem(g, "CONTAINS", item(SrCodes.PROBABILITY),
                    String.format(Locale.ROOT, "%.4f", f.probability()), item(SrCodes.NO_UNITS));
            if (f.present() && f.location() != null) {
                location(g, f.location(), source.get("FrameOfReferenceUID"));
            }
        }
        if (companions.seg().isPresent()) {
            SegWriter.Seg seg = companions.seg().get();
            for (SegWriter.Segment s : seg.segments()) {
                organVolume(measurements, seg, s, result);
            }
        }

        ContentItem qualitative = factory.makeContainerContentItem(root, "CONTAINS", item(SrCodes.QUALITATIVE_EVALUATIONS),
                true);
        factory.makeCodeContentItem(qualitative, "CONTAINS", item(SrCodes.CAD_PROCESSING_SUMMARY),
                item(result.presentFindings().isEmpty() ? SrCodes.SUCCEEDED_WITHOUT_FINDINGS : SrCodes.SUCCEEDED_WITH_FINDINGS));
        factory.makeCodeContentItem(qualitative, "CONTAINS", item(SrCodes.PRIORITIES),
                item(SrCodes.priority(result.suggestedPriority())));
        for (String line : seriesSelection) {
            factory.makeTextContentItem(qualitative, "CONTAINS", item(SrCodes.SERIES_SELECTION), line);
        }
        return root;
    }

    /**
     * Where a finding called present is (TID 1501 is extensible): the key slice as an IMAGE reference, and the point
     * as a SCOORD3D POINT on the source's frame of reference (when it has one; a point needs a frame to lie on).
     */
    private void location(ContentItem group, FindingLocation l, String frameOfReference) throws DicomException {
        factory.makeImageContentItem(group, "CONTAINS", item(SrCodes.SOURCE_OF_MEASUREMENT), l.sopClassUid(),
                l.sopInstanceUid(), l.frameNumber(), 0, null, null, null, null);
        if (!frameOfReference.isEmpty()) {
            float[] point = {l.pointLps().get(0).floatValue(), l.pointLps().get(1).floatValue(),
                l.pointLps().get(2).floatValue()};
            factory.makeSpatialCoordinates3DContentItem(group, "CONTAINS", item(SrCodes.IMAGE_REGION), "POINT", point,
                    frameOfReference);
        }
    }

    /**
     * TID 1411 Volumetric ROI Measurements: one group per SEG segment (an organ), referencing the segment and
     * the series it was made on, with the organ's volume on the source grid as the SEG has it, so the two agree.
     */
    private void organVolume(ContentItem measurements, SegWriter.Seg seg, SegWriter.Segment s, TriageResult result)
            throws DicomException {
        ContentItem g = factory.makeContainerContentItem(measurements, "CONTAINS", item(SrCodes.MEASUREMENT_GROUP), true);
        factory.makeTextContentItem(g, "HAS OBS CONTEXT", item(SrCodes.TRACKING_IDENTIFIER), s.trackingIdentifier());
        factory.makeUIDContentItem(g, "HAS OBS CONTEXT", item(SrCodes.TRACKING_UID), s.trackingUid());
        segmentReference(g, seg, s);
        factory.makeTextContentItem(g, "HAS CONCEPT MOD", item(SrCodes.ALGORITHM_NAME), result.model().name());
        factory.makeTextContentItem(g, "HAS CONCEPT MOD", item(SrCodes.ALGORITHM_VERSION), result.model().version());
        factory.makeCodeContentItem(g, "HAS CONCEPT MOD", item(SrCodes.FINDING_SITE), item(s.organ().code()));
        factory.makeNumericContentItem(g, "CONTAINS", item(SrCodes.VOLUME),
                String.format(Locale.ROOT, "%.1f", s.volumeMl()), item(SrCodes.MILLILITER));
    }

    /** TID 1411 rows 7 and 11: the SEG segment of the group and the series it was made on. */
    private void segmentReference(ContentItem g, SegWriter.Seg seg, SegWriter.Segment s) throws DicomException {
        factory.makeImageContentItem(g, "CONTAINS", item(SrCodes.REFERENCED_SEGMENT), SOPClass.SegmentationStorage,
                seg.sopInstanceUid(), 0, s.number(), null, null, null, null);
        factory.makeUIDContentItem(g, "CONTAINS", item(SrCodes.SOURCE_SERIES_FOR_SEGMENTATION),
                seg.sourceSeriesInstanceUid());
    }

    private static SequenceAttribute predecessors(Predecessor p) throws DicomException {
        AttributeList sop = new AttributeList();
        put(sop, TagFromName.ReferencedSOPClassUID, p.sopClassUid());
        put(sop, TagFromName.ReferencedSOPInstanceUID, p.sopInstanceUid());
        SequenceAttribute sops = new SequenceAttribute(TagFromName.ReferencedSOPSequence);
        sops.addItem(sop);
        AttributeList seriesItem = new AttributeList();
        put(seriesItem, TagFromName.SeriesInstanceUID, p.seriesInstanceUid());
        seriesItem.put(sops);
        SequenceAttribute seriesSeq = new SequenceAttribute(TagFromName.ReferencedSeriesSequence);
        seriesSeq.addItem(seriesItem);
        AttributeList studyItem = new AttributeList();
        put(studyItem, TagFromName.StudyInstanceUID, p.studyInstanceUid());
        studyItem.put(seriesSeq);
        SequenceAttribute predecessors = new SequenceAttribute(TagFromName.PredecessorDocumentsSequence);
        predecessors.addItem(studyItem);
        return predecessors;
    }

    private SequenceAttribute evidence(String study, String series, SourceStudy source, Companions companions)
            throws DicomException {
        AttributeList seriesItem = new AttributeList();
        put(seriesItem, TagFromName.SeriesInstanceUID, series);
        SequenceAttribute sops = new SequenceAttribute(TagFromName.ReferencedSOPSequence);
        for (SourceStudy.ReferencedInstance i : source.instances()) {
            AttributeList sop = new AttributeList();
            put(sop, TagFromName.ReferencedSOPClassUID, i.sopClassUid());
            put(sop, TagFromName.ReferencedSOPInstanceUID, i.sopInstanceUid());
            sops.addItem(sop);
        }
        seriesItem.put(sops);
        AttributeList studyItem = new AttributeList();
        put(studyItem, TagFromName.StudyInstanceUID, study);
        SequenceAttribute seriesSeq = new SequenceAttribute(TagFromName.ReferencedSeriesSequence);
        seriesSeq.addItem(seriesItem);
        if (companions.seg().isPresent()) {
            seriesSeq.addItem(referencedSeries(companions.seg().get().seriesInstanceUid(), SOPClass.SegmentationStorage,
                    companions.seg().get().sopInstanceUid()));
        }
        if (companions.kos().isPresent()) {
            seriesSeq.addItem(referencedSeries(companions.kos().get().seriesInstanceUid(),
                    SOPClass.KeyObjectSelectionDocumentStorage, companions.kos().get().sopInstanceUid()));
        }
        studyItem.put(seriesSeq);
        SequenceAttribute evidence = new SequenceAttribute(TagFromName.CurrentRequestedProcedureEvidenceSequence);
        evidence.addItem(studyItem);
        return evidence;
    }

    private static AttributeList referencedSeries(String seriesUid, String sopClass, String sopInstance)
            throws DicomException {
        AttributeList sop = new AttributeList();
        put(sop, TagFromName.ReferencedSOPClassUID, sopClass);
        put(sop, TagFromName.ReferencedSOPInstanceUID, sopInstance);
        SequenceAttribute sops = new SequenceAttribute(TagFromName.ReferencedSOPSequence);
        sops.addItem(sop);
        AttributeList item = new AttributeList();
        put(item, TagFromName.SeriesInstanceUID, seriesUid);
        item.put(sops);
        return item;
    }

    /** IHE AIR: the algorithm as contributing equipment, with a Device UID that changes with the package. */
    private SequenceAttribute contributingEquipment(TriageResult result) throws DicomException {
        AttributeList e = new AttributeList();
        SequenceAttribute purpose = new SequenceAttribute(TagFromName.PurposeOfReferenceCodeSequence);
        purpose.addItem(item(SrCodes.PROCESSING_EQUIPMENT).getAttributeList());
        e.put(purpose);
        put(e, TagFromName.Manufacturer, options.manufacturer());
        put(e, TagFromName.ManufacturerModelName, result.model().name());
        put(e, TagFromName.SoftwareVersions, result.model().version());
        put(e, TagFromName.DeviceUID, deviceUid(result));
        SequenceAttribute s = new SequenceAttribute(TagFromName.ContributingEquipmentSequence);
        s.addItem(e);
        return s;
    }

    static String deviceUid(TriageResult result) {
        return uid("device", result.model().name(), result.model().version(), result.model().packageSha256());
    }

    private static boolean isType2(AttributeTag t) {
        return t.equals(TagFromName.PatientName) || t.equals(TagFromName.PatientID) || t.equals(TagFromName.PatientBirthDate)
                || t.equals(TagFromName.PatientSex) || t.equals(TagFromName.StudyDate) || t.equals(TagFromName.StudyTime)
                || t.equals(TagFromName.ReferringPhysicianName) || t.equals(TagFromName.StudyID)
                || t.equals(TagFromName.AccessionNumber);
    }

    private static void put(AttributeList list, AttributeTag tag, String... values) throws DicomException {
        Attribute scs = list.get(TagFromName.SpecificCharacterSet);
        Attribute a = list.putNewAttribute(tag, scs == null ? null : new SpecificCharacterSet(Attribute.getStringValues(scs)));
        for (String v : values) {
            a.addValue(v);
        }
    }

    /** A "2.25." UID from a SHA-256 of the parts (PS3.5 B.2), so the same inputs give the same UID. */
    static String uid(String... parts) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256")
                    .digest(String.join("\u0000", parts).getBytes(StandardCharsets.UTF_8));
            byte[] u = java.util.Arrays.copyOf(h, 16);
            u[6] = (byte) ((u[6] & 0x0f) | 0x50);
            u[8] = (byte) ((u[8] & 0x3f) | 0x80);
            return "2.25." + new BigInteger(1, u);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

}
