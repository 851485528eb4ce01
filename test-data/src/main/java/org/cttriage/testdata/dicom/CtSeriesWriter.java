package org.cttriage.testdata.dicom;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.OtherByteAttributeMultipleCompressedFrames;
import com.pixelmed.dicom.OtherWordAttribute;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.SpecificCharacterSet;
import com.pixelmed.dicom.TagFromName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.cttriage.testdata.dicom.SeriesWriteOptions.Layout;
import org.cttriage.testdata.dicom.SeriesWriteOptions.PixelRepresentationOption;
import org.cttriage.testdata.dicom.SeriesWriteOptions.TransferSyntaxOption;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.PatientHabitus;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomSpec;

/**
 * Writes a {@link Phantom} as a CT series that every DICOM tool accepts: CT Image Storage
 * (one file per slice) or Enhanced CT Image Storage (one multi-frame file), with the
 * patient, study, series, frame of reference, equipment, image plane, image pixel and CT
 * image modules filled as the standard asks. Everything, UIDs and dates included, derives
 * from the phantom's seed, so the same seed gives byte-identical files.
 */
public final class CtSeriesWriter {
    private static final String SOURCE_AE = "CTTRIAGE_GEN";
    private static final String MANUFACTURER = "ct-triage";
    private static final String MODEL = "ct-triage phantom generator";
    private static final String SOFTWARE_VERSION = "1";
    private static final DateTimeFormatter DA = DateTimeFormatter.BASIC_ISO_DATE;

    /** What was written. */
    public record WrittenSeries(String studyInstanceUid, String seriesInstanceUid, List<Path> files) {
        public WrittenSeries {
            files = List.copyOf(files);
        }
    }

    /** Writes the series into {@code folder} (created if needed). */
    public WrittenSeries write(Phantom phantom, SeriesWriteOptions options, Path folder) throws IOException {
        Files.createDirectories(folder);
        try {
            return options.layout() == Layout.ENHANCED_MULTI_FRAME
                    ? new EnhancedCtWriter(this).write(phantom, options, folder)
                    : writeSingleFrames(phantom, options, folder);
        } catch (DicomException e) {
            throw new IOException("cannot build DICOM data set: " + e.getMessage(), e);
        }
    }

    /** Study Instance UID of the phantom with this seed. */
    public static String studyUid(long seed) {
        return DeterministicUids.uid(seed, "study");
    }

    /** Series Instance UID of series {@code number} of the phantom with this seed. */
    public static String seriesUid(long seed, int number) {
        return DeterministicUids.uid(seed, "series/" + number);
    }

    private WrittenSeries writeSingleFrames(Phantom phantom, SeriesWriteOptions options, Path folder)
            throws IOException, DicomException {
        PhantomSpec spec = phantom.spec();
        long seed = spec.seed();
        int rows = spec.rows();
        int columns = spec.columns();
        int sliceVoxels = rows * columns;
        List<Path> files = new ArrayList<>(spec.slices());
        for (int z = 0; z < spec.slices(); z++) {
            AttributeList list = new AttributeList();
            putCommon(list, phantom, options, SOPClass.CTImageStorage, instanceUid(seed, options, z));
            int instanceNumber = options.instanceNumbersDescending() ? spec.slices() - z : z + 1;
            put(list, TagFromName.InstanceNumber, Integer.toString(instanceNumber));
            put(list, TagFromName.ImageType, "ORIGINAL", "PRIMARY", "AXIAL");
            put(list, TagFromName.AcquisitionNumber, "1");
            put(list, TagFromName.ContentDate, studyDate(phantom));
            put(list, TagFromName.ContentTime, "090000");
            double[] origin = phantom.sliceOrigin(z);
            put(list, TagFromName.ImagePositionPatient, ds(origin[0]), ds(origin[1]), ds(origin[2]));
            put(list, TagFromName.ImageOrientationPatient, "1", "0", "0", "0", "1", "0");
            put(list, TagFromName.PixelSpacing, ds(spec.pixelSpacingMm()), ds(spec.pixelSpacingMm()));
            put(list, TagFromName.SliceThickness, ds(spec.sliceThicknessMm()));
            put(list, TagFromName.SliceLocation, ds(origin[2]));
            putPixelModule(list, options, rows, columns);
            put(list, tag("KVP"), "120");
            put(list, TagFromName.ConvolutionKernel, options.convolutionKernel());
            put(list, TagFromName.ReconstructionDiameter, ds(columns * spec.pixelSpacingMm()));
            put(list, TagFromName.WindowCenter, "40");
            put(list, TagFromName.WindowWidth, "400");
            short[] stored = stored(phantom.hu(), z * sliceVoxels, sliceVoxels, options);
            Path file = folder.resolve(String.format(Locale.ROOT, "s%03d-%04d.dcm", options.seriesNumber(), z + 1));
            writeFile(list, stored, rows, columns, 1, options, file);
            files.add(file);
        }
        return new WrittenSeries(studyUid(seed), seriesUid(seed, options.seriesNumber()), files);
    }

    String instanceUid(long seed, SeriesWriteOptions options, int index) {
        return DeterministicUids.uid(seed, "instance/" + options.seriesNumber() + "/" + options.layout() + "/"
                + options.transferSyntax() + "/" + options.pixelRepresentation() + "/" + index);
    }

    /** SOP common, patient, study, series, frame of reference, equipment, contrast. */
    void putCommon(AttributeList list, Phantom phantom, SeriesWriteOptions options, String sopClass, String sopInstance)
            throws DicomException {
        long seed = phantom.spec().seed();
        PatientHabitus h = phantom.habitus();
        boolean ascii = StandardCharsets.US_ASCII.newEncoder().canEncode(options.patientName());
        if (!ascii) {
            put(list, TagFromName.SpecificCharacterSet, "ISO_IR 192");
        }
        put(list, TagFromName.SOPClassUID, sopClass);
        put(list, TagFromName.SOPInstanceUID, sopInstance);
        put(list, TagFromName.PatientName, options.patientName());
        put(list, TagFromName.PatientID, "PHANTOM-" + seed);
        put(list, TagFromName.IssuerOfPatientID, "CTTRIAGE-PHANTOM");
        LocalDate studyDate = LocalDate.parse(studyDate(phantom), DA);
        put(list, TagFromName.PatientBirthDate, studyDate.minusYears(h.ageYears()).minusDays(Math.floorMod(seed, 300)).format(DA));
        put(list, TagFromName.PatientSex, String.valueOf(h.sex()));
        put(list, TagFromName.PatientAge, String.format(Locale.ROOT, "%03dY", h.ageYears()));
        put(list, TagFromName.PatientWeight, ds(h.weightKg()));
        put(list, TagFromName.PatientSize, ds(h.heightCm() / 100.0));
        put(list, TagFromName.StudyInstanceUID, studyUid(seed));
        put(list, TagFromName.StudyDate, studyDate(phantom));
        put(list, TagFromName.StudyTime, "090000");
        put(list, TagFromName.ReferringPhysicianName, "");
        put(list, TagFromName.StudyID, "1");
        put(list, TagFromName.AccessionNumber, "ACC" + Math.floorMod(seed, 100_000_000L));
        put(list, TagFromName.StudyDescription, "CT chest abdomen (synthetic phantom)");
        put(list, TagFromName.Modality, "CT");
        put(list, TagFromName.SeriesInstanceUID, seriesUid(seed, options.seriesNumber()));
        put(list, TagFromName.SeriesNumber, Integer.toString(options.seriesNumber()));
        put(list, TagFromName.SeriesDescription, options.seriesDescription());
        put(list, TagFromName.SeriesDate, studyDate(phantom));
        put(list, TagFromName.SeriesTime, "090000");
        put(list, TagFromName.PatientPosition, "HFS");
        // Defined term for SCT 416550000 "Chest and Abdomen" (PS3.16 Annex L); an unpaired region,
        // which is what lets validators see that Laterality (type 2C) must be absent.
        put(list, TagFromName.BodyPartExamined, "CHESTABDOMEN");
        put(list, TagFromName.FrameOfReferenceUID, DeterministicUids.uid(seed, "frame-of-reference"));
        put(list, TagFromName.PositionReferenceIndicator, "");
        put(list, TagFromName.Manufacturer, MANUFACTURER);
        put(list, TagFromName.ManufacturerModelName, MODEL);
        put(list, TagFromName.DeviceSerialNumber, "0");
        put(list, TagFromName.SoftwareVersions, SOFTWARE_VERSION);
        put(list, TagFromName.InstitutionName, "Synthetic");
        if (phantom.spec().phase() != ContrastPhase.NONE) {
            put(list, TagFromName.ContrastBolusAgent, "Iodinated contrast");
            put(list, TagFromName.ContrastBolusRoute, "IV");
        }
    }

    void putPixelModule(AttributeList list, SeriesWriteOptions options, int rows, int columns) throws DicomException {
        boolean signed = options.pixelRepresentation() == PixelRepresentationOption.SIGNED;
        put(list, TagFromName.SamplesPerPixel, "1");
        put(list, TagFromName.PhotometricInterpretation, "MONOCHROME2");
        put(list, TagFromName.Rows, Integer.toString(rows));
        put(list, TagFromName.Columns, Integer.toString(columns));
        put(list, TagFromName.BitsAllocated, "16");
        put(list, TagFromName.BitsStored, signed ? "16" : "12");
        put(list, TagFromName.HighBit, signed ? "15" : "11");
        put(list, TagFromName.PixelRepresentation, signed ? "1" : "0");
        put(list, TagFromName.RescaleIntercept, signed ? "0" : "-1024");
        put(list, TagFromName.RescaleSlope, "1");
        put(list, TagFromName.RescaleType, "HU");
    }

    /** HU → stored values for {@code count} voxels from {@code offset}. */
    static short[] stored(short[] hu, int offset, int count, SeriesWriteOptions options) {
        short[] out = new short[count];
        boolean signed = options.pixelRepresentation() == PixelRepresentationOption.SIGNED;
        for (int i = 0; i < count; i++) {
            int v = hu[offset + i];
            out[i] = signed ? (short) v : (short) Math.max(0, Math.min(4095, v + 1024));
        }
        return out;
    }

    /** Pixel data (native or RLE), file meta, then the file; JPEG Lossless is made by dcmcjpeg. */
    void writeFile(AttributeList list, short[] stored, int rows, int columns, int frames, SeriesWriteOptions options,
                   Path file) throws IOException, DicomException {
        TransferSyntaxOption ts = options.transferSyntax();
        String writeTs = ts == TransferSyntaxOption.JPEG_LOSSLESS ? TransferSyntaxOption.EXPLICIT_LE.uid() : ts.uid();
        if (ts == TransferSyntaxOption.RLE) {
            byte[][] encoded = new byte[frames][];
            for (int f = 0; f < frames; f++) {
                encoded[f] = RleEncoder.encode16(stored, f * rows * columns, rows, columns);
            }
            list.put(new OtherByteAttributeMultipleCompressedFrames(TagFromName.PixelData, encoded));
        } else {
            OtherWordAttribute pixels = new OtherWordAttribute(TagFromName.PixelData);
            pixels.setValues(stored);
            list.put(pixels);
        }
        FileMetaInformation.addFileMetaInformation(list, writeTs, SOURCE_AE);
        Path part = file.resolveSibling(file.getFileName() + ".part");
        list.write(part.toFile(), writeTs, true, true);
        if (ts == TransferSyntaxOption.JPEG_LOSSLESS) {
            compressJpegLossless(part, file);
            Files.delete(part);
        } else {
            Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static void compressJpegLossless(Path in, Path out) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("dcmcjpeg", "--encode-lossless-sv1", "--true-lossless", "--uid-never",
                in.toString(), out.toString()).redirectErrorStream(true);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("JPEG Lossless needs dcmtk's dcmcjpeg on the PATH (apt-get install dcmtk)", e);
        }
        try {
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("dcmcjpeg failed on " + in + ": " + output.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running dcmcjpeg", e);
        }
    }

    static String studyDate(Phantom phantom) {
        return LocalDate.of(2026, 1, 5).plusDays(Math.floorMod(phantom.spec().seed(), 300)).format(DA);
    }

    /** A decimal string (DS) of at most 16 characters. */
    static String ds(double v) {
        String s = String.format(Locale.ROOT, "%.6f", v);
        s = s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
        if (s.equals("-0")) {
            s = "0";
        }
        return s.length() <= 16 ? s : String.format(Locale.ROOT, "%.9g", v).trim();
    }

    static void put(AttributeList list, AttributeTag tag, String... values) throws DicomException {
        Attribute a = list.putNewAttribute(tag, specificCharacterSet(list));
        for (String v : values) {
            a.addValue(v);
        }
    }

    /** A tag by its keyword, for the tags PixelMed's TagFromName lacks (never a hex literal). */
    static AttributeTag tag(String keyword) {
        AttributeTag t = com.pixelmed.dicom.DicomDictionary.StandardDictionary.getTagFromName(keyword);
        if (t == null) {
            throw new IllegalStateException("PixelMed's dictionary lacks " + keyword);
        }
        return t;
    }

    static SequenceAttribute sequence(AttributeList list, AttributeTag tag, AttributeList... items) {
        SequenceAttribute s = new SequenceAttribute(tag);
        for (AttributeList item : items) {
            s.addItem(item);
        }
        list.put(s);
        return s;
    }

    private static SpecificCharacterSet specificCharacterSet(AttributeList list) {
        Attribute scs = list.get(TagFromName.SpecificCharacterSet);
        return scs == null ? null : new SpecificCharacterSet(Attribute.getStringValues(scs));
    }
}
