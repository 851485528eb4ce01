package org.cttriage.core.dicom.sr;

import static org.cttriage.core.dicom.sr.DerivedObjects.codeSequence;
import static org.cttriage.core.dicom.sr.DerivedObjects.put;
import static org.cttriage.core.dicom.sr.DerivedObjects.sequence;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.AttributeTagAttribute;
import com.pixelmed.dicom.DicomDictionary;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.OtherByteAttribute;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.cttriage.core.domain.CodedConcept;
import org.cttriage.core.domain.ModelIdentity;
import org.cttriage.core.domain.ResultObject;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.volume.SliceSource;
import org.cttriage.core.volume.VolumeGeometry;

/**
 * The model's organ segmentation as a DICOM Segmentation (Segmentation Storage, BINARY) on the
 * source series' own grid and Frame of Reference: one frame per source slice, so that a viewer
 * overlays it on the CT without resampling. One segment per organ that has at least one voxel,
 * numbered 1.. in the dictionary's label order; each segment's frames are only the slices that
 * contain it (empty frames are not sent, as is usual practice). Every frame names the source image
 * it lies on (Derivation Image Sequence, with the frame number for an enhanced multi-frame source).
 * Deterministic: the UIDs derive from the source instances and the model package, as the SR's do.
 */
public final class SegWriter {
    private static final DicomDictionary DICT = DicomDictionary.StandardDictionary;
    private static final AttributeTag SEGMENTATION_TYPE = DICT.getTagFromName("SegmentationType");
    private static final AttributeTag SEGMENT_ALGORITHM_TYPE = DICT.getTagFromName("SegmentAlgorithmType");
    private static final AttributeTag SEGMENT_ALGORITHM_NAME = DICT.getTagFromName("SegmentAlgorithmName");
    private static final AttributeTag SEGMENTATION_ALGORITHM_IDENTIFICATION =
            DICT.getTagFromName("SegmentationAlgorithmIdentificationSequence");
    private static final AttributeTag ALGORITHM_FAMILY = DICT.getTagFromName("AlgorithmFamilyCodeSequence");
    private static final AttributeTag ALGORITHM_NAME = DICT.getTagFromName("AlgorithmName");
    private static final AttributeTag ALGORITHM_VERSION = DICT.getTagFromName("AlgorithmVersion");
    private static final AttributeTag CATEGORY = DICT.getTagFromName("SegmentedPropertyCategoryCodeSequence");
    private static final AttributeTag TYPE = DICT.getTagFromName("SegmentedPropertyTypeCodeSequence");
    private static final AttributeTag TRACKING_ID = DICT.getTagFromName("TrackingID");
    private static final AttributeTag TRACKING_UID = DICT.getTagFromName("TrackingUID");
    private static final AttributeTag SEGMENT_IDENTIFICATION = DICT.getTagFromName("SegmentIdentificationSequence");
    private static final AttributeTag REFERENCED_SEGMENT_NUMBER = DICT.getTagFromName("ReferencedSegmentNumber");
    private static final AttributeTag CONTENT_CREATOR_NAME = DICT.getTagFromName("ContentCreatorName");
    private static final AttributeTag CONTENT_LABEL = DICT.getTagFromName("ContentLabel");
    private static final AttributeTag CONTENT_DESCRIPTION = DICT.getTagFromName("ContentDescription");
    private static final AttributeTag LOSSY = DICT.getTagFromName("LossyImageCompression");
    private static final AttributeTag SPACING_BETWEEN_SLICES = DICT.getTagFromName("SpacingBetweenSlices");
    private static final AttributeTag POSITION_REFERENCE_INDICATOR = DICT.getTagFromName("PositionReferenceIndicator");
    private static final AttributeTag DIMENSION_ORGANIZATION_UID = DICT.getTagFromName("DimensionOrganizationUID");
    private static final AttributeTag DIMENSION_INDEX_POINTER = DICT.getTagFromName("DimensionIndexPointer");
    private static final AttributeTag FUNCTIONAL_GROUP_POINTER = DICT.getTagFromName("FunctionalGroupPointer");
    private static final AttributeTag DIMENSION_DESCRIPTION_LABEL = DICT.getTagFromName("DimensionDescriptionLabel");
    private static final AttributeTag REFERENCED_INSTANCE_SEQUENCE = DICT.getTagFromName("ReferencedInstanceSequence");
    private static final AttributeTag DERIVATION_IMAGE_SEQUENCE = DICT.getTagFromName("DerivationImageSequence");
    private static final String SOURCE_AE = "CTTRIAGE";

    private final SrOptions options;

    public SegWriter(SrOptions options) {
        this.options = options;
    }

    /**
     * An organ the model segments.
     *
     * @param id the dictionary's organ id
     * @param label its label in the label map (1..)
     * @param code its SNOMED CT code (the segment's property type)
     */
    public record Organ(String id, int label, CodedConcept code) {
    }

    /**
     * One segment written: what the SR's volumetric measurement group references.
     *
     * @param number Segment Number
     * @param organ the organ
     * @param trackingIdentifier Tracking ID, the same text as the SR's group
     * @param trackingUid Tracking UID, the same UID as the SR's group
     * @param voxels voxels of the source grid in the segment
     * @param volumeMl the segment's volume on the source grid, millilitres
     * @param frames frames of the SEG that carry it
     */
    public record Segment(int number, Organ organ, String trackingIdentifier, String trackingUid, long voxels,
            double volumeMl, int frames) {
    }

    /**
     * A segmentation built.
     *
     * @param list the data set, with file meta information
     * @param sopInstanceUid its SOP Instance UID
     * @param seriesInstanceUid its series
     * @param sourceSeriesInstanceUid the series it was made on
     * @param segments its segments, by number
     */
    public record Seg(AttributeList list, String sopInstanceUid, String seriesInstanceUid,
            String sourceSeriesInstanceUid, List<Segment> segments) {
    }

    /** The tracking UID of an organ's segment and of the SR group that measures it. */
    public static String organTrackingUid(String study, String sourceSeries, String organId, ModelIdentity model) {
        return TriageSrWriter.uid("organ-tracking", study, sourceSeries, organId, model.name() + " " + model.version());
    }

    /**
     * Builds the segmentation of {@code labels} (one label per voxel of {@code grid}, x fastest, 0 background).
     *
     * @param slices per slice index of {@code grid}, the source image it was read from (null: interpolated)
     * @return empty when no organ has a voxel (a SEG needs a segment)
     * @throws TriageException TRIAGE-0102 when the source has no Frame of Reference UID (the SEG could not be placed)
     */
    public Optional<Seg> build(SourceStudy source, VolumeGeometry grid, List<SliceSource> slices, byte[] labels,
            List<Organ> organs, ModelIdentity model) throws TriageException, DicomException {
        int[] size = grid.size();
        if (labels.length != grid.voxelCount()) {
            throw new IllegalArgumentException(labels.length + " labels for " + grid.voxelCount() + " voxels");
        }
        if (slices.size() != size[2]) {
            throw new IllegalArgumentException(slices.size() + " slice sources for " + size[2] + " slices");
        }
        String frameOfReference = source.get("FrameOfReferenceUID");
        if (frameOfReference.isEmpty()) {
            throw new TriageException(ErrorCode.MISSING_ATTRIBUTE, "series " + source.seriesInstanceUid()
                    + " has no Frame of Reference UID: its organ segmentation cannot be placed on it (no SEG)");
        }
        String study = source.get("StudyInstanceUID");
        String series = source.seriesInstanceUid();
        int sliceVoxels = size[0] * size[1];
        double voxelMl = voxelVolumeMm3(grid) / 1000.0;

        // Voxels of each label in each slice, in one pass over the label map.
        int[][] perSlice = new int[size[2]][256];
        for (int k = 0; k < size[2]; k++) {
            int[] counts = perSlice[k];
            for (int v = k * sliceVoxels, end = v + sliceVoxels; v < end; v++) {
                counts[labels[v] & 0xff]++;
            }
        }
        // Per organ: which slices hold it, and how many voxels it has.
        List<Segment> segments = new ArrayList<>();
        List<boolean[]> slicesOf = new ArrayList<>();
        for (Organ o : organs) {
            if (o.label() < 1 || o.label() > 255) {
                throw new IllegalArgumentException("organ " + o.id() + " has label " + o.label() + ", not 1..255");
            }
            boolean[] has = new boolean[size[2]];
            long voxels = 0;
            int frames = 0;
            for (int k = 0; k < size[2]; k++) {
                int n = perSlice[k][o.label()];
                if (n > 0) {
                    has[k] = true;
                    frames++;
                    voxels += n;
                }
            }
            if (voxels > 0) {
                segments.add(new Segment(segments.size() + 1, o, o.id(), organTrackingUid(study, series, o.id(), model),
                        voxels, voxels * voxelMl, frames));
                slicesOf.add(has);
            }
        }
        if (segments.isEmpty()) {
            return Optional.empty();
        }
        StringBuilder inputs = new StringBuilder();
        source.instances().forEach(i -> inputs.append(i.sopInstanceUid()).append('\\'));
        String sopInstanceUid = TriageSrWriter.uid("seg-instance", study, series, model.packageSha256(), inputs.toString());
        String seriesInstanceUid = TriageSrWriter.uid("seg-series", study, series, model.name());
        String modelName = model.name() + " " + model.version();

        AttributeList list = new AttributeList();
        DerivedObjects.copyPatientAndStudy(list, source);
        put(list, TagFromName.SOPClassUID, SOPClass.SegmentationStorage);
        put(list, TagFromName.SOPInstanceUID, sopInstanceUid);
        put(list, TagFromName.Modality, "SEG");
        put(list, TagFromName.SeriesInstanceUID, seriesInstanceUid);
        put(list, TagFromName.SeriesNumber, Integer.toString(options.seriesNumber() + 1));
        put(list, TagFromName.SeriesDescription, "AI organ segmentation (" + modelName + ")");
        put(list, TagFromName.FrameOfReferenceUID, frameOfReference);
        put(list, POSITION_REFERENCE_INDICATOR, source.get("PositionReferenceIndicator"));
        put(list, TagFromName.Manufacturer, options.manufacturer());
        put(list, TagFromName.ManufacturerModelName, model.name());
        put(list, TagFromName.DeviceSerialNumber, options.deviceSerialNumber());
        put(list, TagFromName.SoftwareVersions, model.version());
        if (!options.institutionName().isEmpty()) {
            put(list, TagFromName.InstitutionName, options.institutionName());
        }
        put(list, TagFromName.InstanceNumber, "1");
        DerivedObjects.contentDateTime(list, source);
        put(list, CONTENT_LABEL, "ORGANS");
        put(list, CONTENT_DESCRIPTION, "Organs segmented by " + modelName);
        put(list, CONTENT_CREATOR_NAME);
        put(list, TagFromName.ImageType, "DERIVED", "PRIMARY");
        put(list, TagFromName.SamplesPerPixel, "1");
        put(list, TagFromName.PhotometricInterpretation, "MONOCHROME2");
        put(list, TagFromName.Rows, Integer.toString(size[1]));
        put(list, TagFromName.Columns, Integer.toString(size[0]));
        put(list, TagFromName.BitsAllocated, "1");
        put(list, TagFromName.BitsStored, "1");
        put(list, TagFromName.HighBit, "0");
        put(list, TagFromName.PixelRepresentation, "0");
        put(list, LOSSY, "00");
        put(list, SEGMENTATION_TYPE, "BINARY");

        SequenceAttribute segmentSequence = new SequenceAttribute(TagFromName.SegmentSequence);
        for (Segment s : segments) {
            segmentSequence.addItem(segmentItem(s, model));
        }
        list.put(segmentSequence);
        String dimensionOrganization = TriageSrWriter.uid("seg-dimensions", sopInstanceUid);
        AttributeList organization = new AttributeList();
        put(organization, DIMENSION_ORGANIZATION_UID, dimensionOrganization);
        list.put(sequence(TagFromName.DimensionOrganizationSequence, organization));
        SequenceAttribute index = new SequenceAttribute(TagFromName.DimensionIndexSequence);
        index.addItem(dimension(dimensionOrganization, REFERENCED_SEGMENT_NUMBER, SEGMENT_IDENTIFICATION, "Segment"));
        index.addItem(dimension(dimensionOrganization, TagFromName.ImagePositionPatient,
                TagFromName.PlanePositionSequence, "Position"));
        list.put(index);

        AttributeList shared = new AttributeList();
        AttributeList measures = new AttributeList();
        put(measures, TagFromName.PixelSpacing, ds(grid.spacing()[1]), ds(grid.spacing()[0]));
        put(measures, TagFromName.SliceThickness, ds(grid.spacing()[2]));
        put(measures, SPACING_BETWEEN_SLICES, ds(grid.spacing()[2]));
        shared.put(sequence(TagFromName.PixelMeasuresSequence, measures));
        AttributeList orientation = new AttributeList();
        double[] r = grid.rowDirection();
        double[] c = grid.columnDirection();
        put(orientation, TagFromName.ImageOrientationPatient, ds(r[0]), ds(r[1]), ds(r[2]), ds(c[0]), ds(c[1]), ds(c[2]));
        shared.put(sequence(TagFromName.PlaneOrientationSequence, orientation));
        list.put(sequence(TagFromName.SharedFunctionalGroupsSequence, shared));

        // Frames: segment by segment, slice by slice; bits packed without padding between frames (PS3.5 8.1.1).
        int totalFrames = segments.stream().mapToInt(Segment::frames).sum();
        byte[] pixels = new byte[(int) ((((long) totalFrames * sliceVoxels) + 7) / 8) + 1 & ~1];
        SequenceAttribute perFrame = new SequenceAttribute(TagFromName.PerFrameFunctionalGroupsSequence);
        Map<String, SliceSource> referenced = new LinkedHashMap<>();
        long bit = 0;
        for (int si = 0; si < segments.size(); si++) {
            Segment s = segments.get(si);
            boolean[] has = slicesOf.get(si);
            for (int k = 0; k < size[2]; k++) {
                if (!has[k]) {
                    continue;
                }
                byte label = (byte) s.organ().label();
                for (int v = k * sliceVoxels, end = v + sliceVoxels; v < end; v++, bit++) {
                    if (labels[v] == label) {
                        pixels[(int) (bit >>> 3)] |= (byte) (1 << (bit & 7));
                    }
                }
                SliceSource from = slices.get(k);
                if (from != null) {
                    referenced.putIfAbsent(from.sopInstanceUid(), from);
                }
                perFrame.addItem(frame(s.number(), k, grid.positionOf(0, 0, k), from));
            }
        }
        list.put(perFrame);
        put(list, TagFromName.NumberOfFrames, Integer.toString(totalFrames));
        AttributeList seriesItem = new AttributeList();
        put(seriesItem, TagFromName.SeriesInstanceUID, series);
        SequenceAttribute instances = new SequenceAttribute(REFERENCED_INSTANCE_SEQUENCE);
        for (SliceSource i : referenced.values()) {
            AttributeList item = new AttributeList();
            put(item, TagFromName.ReferencedSOPClassUID, i.sopClassUid());
            put(item, TagFromName.ReferencedSOPInstanceUID, i.sopInstanceUid());
            instances.addItem(item);
        }
        seriesItem.put(instances);
        list.put(sequence(TagFromName.ReferencedSeriesSequence, seriesItem));
        OtherByteAttribute pixelData = new OtherByteAttribute(TagFromName.PixelData);
        pixelData.setValues(pixels);
        list.put(pixelData);
        FileMetaInformation.addFileMetaInformation(list, TransferSyntax.ExplicitVRLittleEndian, SOURCE_AE);
        return Optional.of(new Seg(list, sopInstanceUid, seriesInstanceUid, series, List.copyOf(segments)));
    }

    /** Writes a SEG built by {@link #build} into {@code folder} as {@code <SOP Instance UID>.dcm}; returns the file. */
    public Path writeInto(Seg seg, Path folder) throws DicomException, IOException {
        return write(seg, folder.resolve(seg.sopInstanceUid() + ".dcm")).file();
    }

    /** Writes a SEG built by {@link #build} as {@code file} (via a temporary file and a rename). */
    public ResultObject write(Seg seg, Path file) throws DicomException, IOException {
        DerivedObjects.write(seg.list(), file);
        return new ResultObject(ResultObject.SEG, SOPClass.SegmentationStorage, seg.sopInstanceUid(),
                seg.seriesInstanceUid(), file);
    }

    private AttributeList segmentItem(Segment s, ModelIdentity model) throws DicomException {
        AttributeList item = new AttributeList();
        put(item, TagFromName.SegmentNumber, Integer.toString(s.number()));
        put(item, TagFromName.SegmentLabel, s.organ().code().meaning().isEmpty() ? s.organ().id() : s.organ().code().meaning());
        put(item, SEGMENT_ALGORITHM_TYPE, "AUTOMATIC");
        put(item, SEGMENT_ALGORITHM_NAME, model.name());
        AttributeList algorithm = new AttributeList();
        algorithm.put(codeSequence(ALGORITHM_FAMILY, SrCodes.ARTIFICIAL_INTELLIGENCE));
        put(algorithm, ALGORITHM_NAME, model.name());
        put(algorithm, ALGORITHM_VERSION, model.version());
        item.put(sequence(SEGMENTATION_ALGORITHM_IDENTIFICATION, algorithm));
        item.put(codeSequence(CATEGORY, SrCodes.ANATOMICAL_STRUCTURE));
        item.put(codeSequence(TYPE, s.organ().code()));
        put(item, TRACKING_ID, s.trackingIdentifier());
        put(item, TRACKING_UID, s.trackingUid());
        return item;
    }

    private static AttributeList dimension(String organization, AttributeTag pointer, AttributeTag group, String label)
            throws DicomException {
        AttributeList item = new AttributeList();
        put(item, DIMENSION_ORGANIZATION_UID, organization);
        AttributeTagAttribute p = new AttributeTagAttribute(DIMENSION_INDEX_POINTER);
        p.addValue(pointer);
        item.put(p);
        AttributeTagAttribute g = new AttributeTagAttribute(FUNCTIONAL_GROUP_POINTER);
        g.addValue(group);
        item.put(g);
        put(item, DIMENSION_DESCRIPTION_LABEL, label);
        return item;
    }

    private static AttributeList frame(int segment, int k, double[] position, SliceSource from) throws DicomException {
        AttributeList item = new AttributeList();
        AttributeList content = new AttributeList();
        put(content, TagFromName.DimensionIndexValues, Integer.toString(segment), Integer.toString(k + 1));
        item.put(sequence(TagFromName.FrameContentSequence, content));
        AttributeList plane = new AttributeList();
        put(plane, TagFromName.ImagePositionPatient, ds(position[0]), ds(position[1]), ds(position[2]));
        item.put(sequence(TagFromName.PlanePositionSequence, plane));
        AttributeList identification = new AttributeList();
        put(identification, REFERENCED_SEGMENT_NUMBER, Integer.toString(segment));
        item.put(sequence(SEGMENT_IDENTIFICATION, identification));
        if (from != null) {
            // An interpolated slice has no source image; its frame is derived from none.
            AttributeList sourceImage = new AttributeList();
            put(sourceImage, TagFromName.ReferencedSOPClassUID, from.sopClassUid());
            put(sourceImage, TagFromName.ReferencedSOPInstanceUID, from.sopInstanceUid());
            if (from.frameNumber() > 0) {
                put(sourceImage, TagFromName.ReferencedFrameNumber, Integer.toString(from.frameNumber()));
            }
            sourceImage.put(codeSequence(TagFromName.PurposeOfReferenceCodeSequence, SrCodes.SOURCE_FOR_PROCESSING));
            AttributeList derivation = new AttributeList();
            derivation.put(codeSequence(TagFromName.DerivationCodeSequence, SrCodes.SEGMENTATION));
            derivation.put(sequence(TagFromName.SourceImageSequence, sourceImage));
            item.put(sequence(DERIVATION_IMAGE_SEQUENCE, derivation));
        }
        return item;
    }

    /** Volume of one voxel, mm³: |det| of the voxel-to-patient matrix (right for a sheared, tilted stack too). */
    static double voxelVolumeMm3(VolumeGeometry g) {
        double[][] m = new double[3][3];
        for (int r = 0; r < 3; r++) {
            m[r][0] = g.rowDirection()[r] * g.spacing()[0];
            m[r][1] = g.columnDirection()[r] * g.spacing()[1];
            m[r][2] = g.sliceDirection()[r] * g.spacing()[2];
        }
        return Math.abs(m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]));
    }

    /** A Decimal String value of at most 16 characters (PS3.5 6.2). */
    static String ds(double v) {
        if (Math.abs(v) < 1e-9) {
            return "0";
        }
        for (int digits = 12; digits > 1; digits--) {
            String s = new BigDecimal(v).round(new MathContext(digits)).stripTrailingZeros().toPlainString();
            if (s.length() <= 16) {
                return s;
            }
        }
        throw new IllegalArgumentException("no Decimal String for " + v);
    }
}
