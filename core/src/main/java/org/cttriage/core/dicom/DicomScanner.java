package org.cttriage.core.dicom;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomDictionary;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;

/**
 * Reads the headers of DICOM files (never their pixel data) and turns every image frame
 * into a {@link SliceHeader}. Files that are not usable images are returned as
 * {@link RejectedFile}s with a reason; the scan itself never fails because of one bad file.
 */
public final class DicomScanner {
    /** Not in PixelMed's TagFromName; looked up by keyword so no tag is written as a number. */
    static final AttributeTag TEMPORAL_POSITION_IDENTIFIER =
            DicomDictionary.StandardDictionary.getTagFromName("TemporalPositionIdentifier");

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DicomScanner.class);
    private static final int PIXEL_DATA_ELEMENT_HEADER = 12;
    private static final int PREAMBLE = 128;
    private static final int FILE_META_GROUP = TagFromName.TransferSyntaxUID.getGroup();
    private static final int IDENTIFYING_GROUP = TagFromName.SOPClassUID.getGroup();

    /** A file that is certainly not DICOM, found without parsing it. */
    static final class NotDicom extends TriageException {
        private static final long serialVersionUID = 1L;

        NotDicom(String reason) {
            super(ErrorCode.UNREADABLE_FILE, reason);
        }
    }
    private static final long UNDEFINED_LENGTH = 0xFFFFFFFFL;

    /** The CT image storage SOP classes: their headers are held to {@link HeaderPlausibility}. */
    public static final java.util.Set<String> CT_IMAGE_SOP_CLASSES = java.util.Set.of(
            com.pixelmed.dicom.SOPClass.CTImageStorage, com.pixelmed.dicom.SOPClass.EnhancedCTImageStorage,
            com.pixelmed.dicom.SOPClass.LegacyConvertedEnhancedCTImageStorage);

    /** Scans every regular file under {@code folder} (recursively; hidden files skipped). */
    public ScanResult scanFolder(Path folder, ExecutorService pool) throws TriageException {
        if (!Files.isDirectory(folder)) {
            throw new TriageException(ErrorCode.NO_SUCH_INPUT, "not a folder: " + folder);
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(folder)) {
            files = walk.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new TriageException(ErrorCode.NO_SUCH_INPUT, "cannot list " + folder + ": " + e.getMessage(), e);
        }
        return scanFiles(files, pool);
    }

    /** Scans the given files, in parallel on {@code pool}; the result keeps the input order. */
    public ScanResult scanFiles(List<Path> files, ExecutorService pool) {
        List<Future<FileScan>> futures = new ArrayList<>(files.size());
        for (Path file : files) {
            futures.add(pool.submit(() -> scanOne(file)));
        }
        List<SliceHeader> slices = new ArrayList<>();
        List<RejectedFile> rejected = new ArrayList<>();
        for (int i = 0; i < futures.size(); i++) {
            FileScan scan;
            try {
                scan = futures.get(i).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while scanning", e);
            } catch (java.util.concurrent.ExecutionException e) {
                // scanOne catches everything it expects; anything else is still reported per file
                scan = FileScan.rejected(new RejectedFile(files.get(i), ErrorCode.UNREADABLE_FILE,
                        "unexpected failure: " + e.getCause()));
            }
            slices.addAll(scan.slices());
            if (scan.rejected() != null) {
                rejected.add(scan.rejected());
            }
        }
        return new ScanResult(slices, rejected);
    }

    private record FileScan(List<SliceHeader> slices, RejectedFile rejected) {
        static FileScan rejected(RejectedFile r) {
            return new FileScan(List.of(), r);
        }
    }

    /** Reads one file's header; every failure becomes a RejectedFile. */
    FileScan scanOne(Path file) {
        try {
            return new FileScan(readSlices(file), null);
        } catch (NotDicom e) {
            LOG.info("{} skipped {}: {}", ErrorCode.UNREADABLE_FILE.code(), file, e.reason());
            return FileScan.rejected(new RejectedFile(file, e.errorCode(), e.reason()));
        } catch (TriageException e) {
            return FileScan.rejected(new RejectedFile(file, e.errorCode(), e.reason()));
        } catch (IOException | DicomException | RuntimeException e) {
            return FileScan.rejected(new RejectedFile(file, ErrorCode.UNREADABLE_FILE,
                    "not readable as DICOM: " + describe(e)));
        }
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
    }

    /**
     * Why {@code file} is certainly not DICOM, or null when it may be: a Part 10 file has "DICM"
     * after its 128-byte preamble (PS3.10 7.1); a bare data set (no preamble, as some archives
     * and older devices write) starts with an element of the File Meta (0002) or Identifying
     * (0008) group, in either byte order, followed by a VR or a length the file can hold.
     */
    static String notDicom(Path file) throws IOException {
        byte[] head = new byte[PREAMBLE + 4];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        if (n == head.length && head[PREAMBLE] == 'D' && head[PREAMBLE + 1] == 'I' && head[PREAMBLE + 2] == 'C'
                && head[PREAMBLE + 3] == 'M') {
            return null;
        }
        if (n < 8) {
            return n + " bytes, no DICM prefix and too short for a data element";
        }
        ByteBuffer b = ByteBuffer.wrap(head, 0, n);
        for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            b.order(order);
            int group = Short.toUnsignedInt(b.getShort(0));
            if (group != FILE_META_GROUP && group != IDENTIFYING_GROUP) {
                continue;
            }
            boolean explicitVr = Character.isUpperCase(head[4]) && Character.isUpperCase(head[5]);
            long implicitLength = Integer.toUnsignedLong(b.getInt(4));
            if (explicitVr || implicitLength <= Files.size(file)) {
                return null;
            }
        }
        return "no DICM prefix at byte 128 and no plausible first data element";
    }

    /** Parses the header of {@code file} and returns one SliceHeader per frame. */
    public List<SliceHeader> readSlices(Path file) throws IOException, DicomException, TriageException {
        String notDicom = notDicom(file);
        if (notDicom != null) {
            // Parsed anyway, arbitrary bytes took PixelMed seconds per file and a log line per
            // "element" (tens of millions for a folder of .npy arrays beside the DICOM files).
            throw new NotDicom("not DICOM: " + notDicom);
        }
        AttributeList list = new AttributeList();
        long[] pixelTagEnd = {-1};
        String transferSyntax;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 64 * 1024);
             DicomInputStream din = new DicomInputStream(in)) {
            // Stop at Pixel Data: headers are all we need here, the pixels are read later by offset.
            list.read(din, (l, tag, byteOffset) -> {
                if (tag.equals(TagFromName.PixelData)) {
                    pixelTagEnd[0] = byteOffset;
                    return true;
                }
                return false;
            });
            transferSyntax = din.getTransferSyntaxToReadDataSet().getUID();
        }
        if (list.get(TagFromName.SOPClassUID) == null && list.get(TagFromName.SOPInstanceUID) == null) {
            // PixelMed guesses a transfer syntax for files without a preamble, so arbitrary bytes can
            // "parse"; an object with neither UID is not a DICOM composite instance.
            throw new TriageException(ErrorCode.UNREADABLE_FILE,
                    "neither SOP Class UID nor SOP Instance UID found: not a DICOM instance");
        }
        if (pixelTagEnd[0] < 0) {
            String sopClass = Attribute.getSingleStringValueOrEmptyString(list, TagFromName.SOPClassUID);
            throw new TriageException(ErrorCode.NOT_AN_IMAGE,
                    "no Pixel Data: not an image (SOP Class " + (sopClass.isEmpty() ? "absent" : sopClass) + ")");
        }
        if (list.get(TagFromName.SOPInstanceUID) == null || list.get(TagFromName.SeriesInstanceUID) == null) {
            throw new TriageException(ErrorCode.MISSING_ATTRIBUTE, "SOP Instance UID or Series Instance UID absent");
        }
        int rows = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.Rows, 0);
        int columns = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.Columns, 0);
        int bitsAllocated = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.BitsAllocated, 0);
        if (rows <= 0 || columns <= 0 || bitsAllocated <= 0) {
            throw new TriageException(ErrorCode.MISSING_ATTRIBUTE, "Rows, Columns or Bits Allocated absent or zero");
        }
        int frames = Math.max(1, Attribute.getSingleIntegerValueOrDefault(list, TagFromName.NumberOfFrames, 1));
        boolean ct = CT_IMAGE_SOP_CLASSES.contains(Attribute.getSingleStringValueOrEmptyString(list,
                TagFromName.SOPClassUID));
        long offset = nativePixelDataOffset(file, transferSyntax, pixelTagEnd[0],
                (long) rows * columns * frames * (bitsAllocated / 8)
                        * Attribute.getSingleIntegerValueOrDefault(list, TagFromName.SamplesPerPixel, 1),
                bitsAllocated, ct);

        SequenceAttribute perFrame = (SequenceAttribute) list.get(TagFromName.PerFrameFunctionalGroupsSequence);
        AttributeList shared = SequenceAttribute.getAttributeListFromWithinSequenceWithSingleItem(
                list, TagFromName.SharedFunctionalGroupsSequence);
        List<SliceHeader> slices = new ArrayList<>(frames);
        for (int f = 0; f < frames; f++) {
            AttributeList frameGroups = perFrame != null && f < perFrame.getNumberOfItems()
                    ? perFrame.getItem(f).getAttributeList() : null;
            SliceHeader slice = slice(file, list, shared, frameGroups, f, frames, transferSyntax, offset);
            if (ct) {
                HeaderPlausibility.check(slice);
            }
            slices.add(slice);
        }
        return slices;
    }

    /**
     * Where the native little-endian pixel data starts, verified byte by byte against the
     * Pixel Data element header, or -1 when PixelMed must decode it (compressed, big endian,
     * deflated, or anything we cannot verify). Throws when the data is shorter than the image.
     */
    private static long nativePixelDataOffset(Path file, String transferSyntax, long tagEnd, long expectedBytes,
                                              int bitsAllocated, boolean exactLength)
            throws IOException, TriageException {
        boolean explicit = TransferSyntax.ExplicitVRLittleEndian.equals(transferSyntax);
        if (!explicit && !TransferSyntax.ImplicitVRLittleEndian.equals(transferSyntax)) {
            return -1;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer b = ByteBuffer.allocate(PIXEL_DATA_ELEMENT_HEADER).order(ByteOrder.LITTLE_ENDIAN);
            long tagStart = tagEnd - 4;
            if (tagStart < 0 || ch.read(b, tagStart) < 8) {
                return -1;
            }
            b.flip();
            int group = Short.toUnsignedInt(b.getShort());
            int element = Short.toUnsignedInt(b.getShort());
            if (group != TagFromName.PixelData.getGroup() || element != TagFromName.PixelData.getElement()) {
                return -1;
            }
            long length;
            long dataStart;
            if (explicit) {
                if (b.remaining() < 8) {
                    return -1;
                }
                b.getShort(); // VR (OB or OW): the byte layout is the same for native data
                b.getShort(); // reserved
                length = Integer.toUnsignedLong(b.getInt());
                dataStart = tagStart + 12;
            } else {
                length = Integer.toUnsignedLong(b.getInt());
                dataStart = tagStart + 8;
            }
            if (length == UNDEFINED_LENGTH) {
                // PS3.5 A.4: only encapsulated (compressed) pixel data has an undefined length.
                throw new TriageException(ErrorCode.PIXEL_DATA_CORRUPT, "native pixel data with undefined length"
                        + " (only encapsulated pixel data may have one, PS3.5 A.4)");
            }
            if (length < expectedBytes || dataStart + expectedBytes > size) {
                throw new TriageException(ErrorCode.PIXEL_DATA_CORRUPT, String.format(
                        "pixel data truncated: %d bytes needed, %d present",
                        expectedBytes, Math.max(0, Math.min(length, size - dataStart))));
            }
            // One padding byte makes an odd length even (PS3.5 7.1.1); anything longer means Bits
            // Allocated, Rows, Columns or Number of Frames do not describe these pixels.
            if (exactLength && length > expectedBytes + (expectedBytes & 1)) {
                throw new TriageException(ErrorCode.PIXEL_DATA_CORRUPT, String.format(
                        "pixel data is %d bytes, but Rows × Columns × Number of Frames × Bits Allocated give %d:"
                                + " the header does not describe these pixels", length, expectedBytes));
            }
            return bitsAllocated == 16 ? dataStart : -1;
        }
    }

    private static SliceHeader slice(Path file, AttributeList top, AttributeList shared, AttributeList frame,
                                     int frameIndex, int frames, String transferSyntax, long offset) {
        double[] position = doubles(top, frame, shared, TagFromName.PlanePositionSequence,
                TagFromName.ImagePositionPatient, 3);
        double[] orientation = doubles(top, frame, shared, TagFromName.PlaneOrientationSequence,
                TagFromName.ImageOrientationPatient, 6);
        double[] spacing = doubles(top, frame, shared, TagFromName.PixelMeasuresSequence,
                TagFromName.PixelSpacing, 2);
        double[] thickness = doubles(top, frame, shared, TagFromName.PixelMeasuresSequence,
                TagFromName.SliceThickness, 1);
        double[] slope = doubles(top, frame, shared, TagFromName.PixelValueTransformationSequence,
                TagFromName.RescaleSlope, 1);
        double[] intercept = doubles(top, frame, shared, TagFromName.PixelValueTransformationSequence,
                TagFromName.RescaleIntercept, 1);

        List<String> imageType = strings(top, TagFromName.ImageType);
        String[] frameType = functionalGroupStrings(frame, shared, TagFromName.CTImageFrameTypeSequence,
                TagFromName.FrameType);
        if (frameType != null && frameType.length > 0) {
            imageType = List.of(frameType); // for Enhanced CT the frame's type decides, not the instance's
        }
        String kernel = Attribute.getDelimitedStringValuesOrEmptyString(top, TagFromName.ConvolutionKernel);
        if (kernel.isEmpty()) {
            String[] k = functionalGroupStrings(frame, shared, TagFromName.CTReconstructionSequence,
                    TagFromName.ConvolutionKernel);
            kernel = k == null ? "" : String.join("\\", k);
        }
        int pixelRepresentation = Attribute.getSingleIntegerValueOrDefault(top, TagFromName.PixelRepresentation, 0);
        int bitsAllocated = Attribute.getSingleIntegerValueOrDefault(top, TagFromName.BitsAllocated, 16);
        int bitsStored = Attribute.getSingleIntegerValueOrDefault(top, TagFromName.BitsStored, bitsAllocated);
        return new SliceHeader(
                file, frameIndex, frames, transferSyntax,
                offset < 0 ? -1 : offset,
                str(top, TagFromName.SOPClassUID),
                str(top, TagFromName.SOPInstanceUID),
                str(top, TagFromName.StudyInstanceUID),
                str(top, TagFromName.SeriesInstanceUID),
                str(top, TagFromName.SeriesNumber),
                str(top, TagFromName.SeriesDescription),
                str(top, TagFromName.Modality).toUpperCase(java.util.Locale.ROOT),
                imageType,
                Attribute.getSingleIntegerValueOrDefault(top, TagFromName.InstanceNumber, 0),
                position, orientation, spacing,
                thickness == null ? null : thickness[0],
                Attribute.getSingleIntegerValueOrDefault(top, TagFromName.Rows, 0),
                Attribute.getSingleIntegerValueOrDefault(top, TagFromName.Columns, 0),
                bitsAllocated, bitsStored,
                Attribute.getSingleIntegerValueOrDefault(top, TagFromName.HighBit, bitsStored - 1),
                pixelRepresentation,
                Attribute.getSingleIntegerValueOrDefault(top, TagFromName.SamplesPerPixel, 1),
                str(top, TagFromName.PhotometricInterpretation),
                slope == null ? 1.0 : slope[0],
                intercept == null ? 0.0 : intercept[0],
                integerOrNull(top.get(TagFromName.PixelPaddingValue)),
                integerOrNull(top.get(TagFromName.PixelPaddingRangeLimit)),
                kernel,
                phaseKey(top, frame, shared));
    }

    /** What tells phases at the same position apart, most specific first. */
    private static String phaseKey(AttributeList top, AttributeList frame, AttributeList shared) {
        String[] temporalIndex = functionalGroupStrings(frame, shared, TagFromName.FrameContentSequence,
                TagFromName.TemporalPositionIndex);
        if (temporalIndex != null && temporalIndex.length > 0) {
            return "temporal position index " + temporalIndex[0];
        }
        String temporal = str(top, TEMPORAL_POSITION_IDENTIFIER);
        if (!temporal.isEmpty()) {
            return "temporal position " + temporal;
        }
        String acquisition = str(top, TagFromName.AcquisitionNumber);
        if (!acquisition.isEmpty()) {
            return "acquisition " + acquisition;
        }
        String time = str(top, TagFromName.AcquisitionTime);
        return time.isEmpty() ? "" : "acquisition time " + time;
    }

    private static String str(AttributeList list, AttributeTag tag) {
        return Attribute.getSingleStringValueOrEmptyString(list, tag).trim();
    }

    private static List<String> strings(AttributeList list, AttributeTag tag) {
        String[] values = Attribute.getStringValues(list, tag);
        if (values == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>(values.length);
        for (String v : values) {
            out.add(v == null ? "" : v.trim().toUpperCase(java.util.Locale.ROOT));
        }
        return Collections.unmodifiableList(out);
    }

    private static Integer integerOrNull(Attribute a) {
        if (a == null || a.getVM() == 0) {
            return null;
        }
        try {
            return a.getIntegerValues()[0];
        } catch (DicomException e) {
            return null;
        }
    }

    /**
     * A numeric attribute from the top level (classic images) or, for Enhanced CT, from the
     * frame's functional group, else the shared one; null when absent or of the wrong count.
     */
    private static double[] doubles(AttributeList top, AttributeList frame, AttributeList shared,
                                    AttributeTag group, AttributeTag tag, int count) {
        double[] v = Attribute.getDoubleValues(top, tag);
        if (v == null || v.length < count) {
            v = fromGroups(frame, shared, group, tag);
        }
        return v != null && v.length >= count ? Arrays.copyOf(v, count) : null;
    }

    private static double[] fromGroups(AttributeList frame, AttributeList shared, AttributeTag group, AttributeTag tag) {
        Attribute a = groupAttribute(frame, shared, group, tag);
        return a == null ? null : Attribute.getDoubleValues(a);
    }

    private static String[] functionalGroupStrings(AttributeList frame, AttributeList shared, AttributeTag group,
                                                   AttributeTag tag) {
        Attribute a = groupAttribute(frame, shared, group, tag);
        if (a == null) {
            return null;
        }
        String[] v = Attribute.getStringValues(a);
        String[] out = new String[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] == null ? "" : v[i].trim().toUpperCase(java.util.Locale.ROOT);
        }
        return out;
    }

    /**
     * {@code tag} inside functional group {@code group}, from the frame's own groups first,
     * then the shared ones (PS3.3 C.7.6.16: a macro is in one or the other); null when absent
     * or empty.
     */
    private static Attribute groupAttribute(AttributeList frame, AttributeList shared, AttributeTag group,
                                            AttributeTag tag) {
        for (AttributeList groups : new AttributeList[] {frame, shared}) {
            if (groups != null) {
                Attribute a = SequenceAttribute.getNamedAttributeFromWithinSequenceWithSingleItem(groups, group, tag);
                if (a != null && a.getVM() > 0) {
                    return a;
                }
            }
        }
        return null;
    }
}
