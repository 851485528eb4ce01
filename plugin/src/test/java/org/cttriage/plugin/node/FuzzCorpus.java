package org.cttriage.plugin.node;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomOutputStream;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A deterministic corpus of mutated CT instances, as C-STORE data sets (explicit VR little
 * endian, no meta information): from one seed, the same mutants every run. Each mutant is a
 * valid phantom slice given its own SOP Instance and Series Instance UIDs (so no two mutants
 * ever form a series together), then one mutation of a class:
 * <ul>
 *   <li>{@link Kind#HEADER_BYTE_FLIPS}: 1–16 random bytes of the header flipped (any answer in
 *       the status table may be right; a Success must be a readable, plausible instance);</li>
 *   <li>{@link Kind#TRUNCATED}: cut anywhere before the end (never Success);</li>
 *   <li>{@link Kind#ABSURD_VALUE}: one attribute the volume or model depends on set to a value
 *       no CT image can have (never Success);</li>
 *   <li>{@link Kind#DEEP_NESTING}: a sequence nested hundreds to thousands of levels (never Success);</li>
 *   <li>{@link Kind#HUGE_LENGTH}: one element's length field claims far more than there is (never Success);</li>
 *   <li>{@link Kind#PIXEL_LENGTH}: pixel data shorter or longer than the header describes (never Success).</li>
 * </ul>
 */
final class FuzzCorpus {
    /** The mutation classes. */
    enum Kind { HEADER_BYTE_FLIPS, TRUNCATED, ABSURD_VALUE, DEEP_NESTING, HUGE_LENGTH, PIXEL_LENGTH }

    /** One mutant: what was done, its SOP Instance UID for the C-STORE request, its data set bytes. */
    record Mutant(int index, Kind kind, String description, String sopInstanceUid, byte[] dataSet) {
        /** True when no correct node may answer Success. */
        boolean mustBeRefused() {
            return kind != Kind.HEADER_BYTE_FLIPS;
        }
    }

    private static final String UID_ROOT = "2.25.4711";
    private static final String[] DS_ABSURD = {"NaN", "Infinity", "-Infinity", "1e308", "-1e308", "1e-308"};

    private FuzzCorpus() {
    }

    /** {@code count} mutants of the given slices, in a fixed proportion of kinds, from {@code seed}. */
    static List<Mutant> generate(List<Path> slices, int count, long seed) throws Exception {
        Random random = new Random(seed);
        List<Mutant> mutants = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            AttributeList list = new AttributeList();
            list.read(slices.get(i % slices.size()).toString());
            String sop = UID_ROOT + "." + seed + "." + i;
            set(list, TagFromName.SOPInstanceUID, sop);
            set(list, TagFromName.SeriesInstanceUID, UID_ROOT + "." + seed + "." + i + ".1");
            list.removeGroupLengthAttributes();
            list.removeMetaInformationHeaderAttributes();
            int pick = random.nextInt(100);
            Mutant m;
            if (pick < 34) {
                m = flips(i, sop, encode(list), random);
            } else if (pick < 50) {
                byte[] data = encode(list);
                int cut = 1 + random.nextInt(data.length - 1);
                m = new Mutant(i, Kind.TRUNCATED, "truncated to " + cut + " of " + data.length + " bytes", sop,
                        java.util.Arrays.copyOf(data, cut));
            } else if (pick < 78) {
                m = absurd(i, sop, list, random);
            } else if (pick < 84) {
                int depth = 100 + random.nextInt(3000);
                m = new Mutant(i, Kind.DEEP_NESTING, "sequence nested " + depth + " levels deep", sop,
                        nested(encode(list), depth));
            } else if (pick < 92) {
                m = hugeLength(i, sop, encode(list), random);
            } else {
                m = pixelLength(i, sop, encode(list), random);
            }
            mutants.add(m);
        }
        return mutants;
    }

    private static Mutant flips(int i, String sop, byte[] data, Random random) {
        int header = pixelDataElement(data);
        int n = 1 + random.nextInt(16);
        StringBuilder where = new StringBuilder();
        for (int k = 0; k < n; k++) {
            int at = random.nextInt(header);
            data[at] ^= (byte) (1 + random.nextInt(255));
            where.append(k == 0 ? "" : ",").append(at);
        }
        return new Mutant(i, Kind.HEADER_BYTE_FLIPS, n + " header byte(s) flipped at " + where, sop, data);
    }

    private static Mutant absurd(int i, String sop, AttributeList list, Random random) throws Exception {
        String what;
        switch (random.nextInt(12)) {
            case 0 -> what = setDs(list, TagFromName.RescaleSlope, pick(random, DS_ABSURD, "0", "-1"));
            case 1 -> what = setDs(list, TagFromName.RescaleIntercept, pick(random, "NaN", "Infinity", "-Infinity",
                    "1e308", "-1e308", "5000"));
            case 2 -> {
                String v = pick(random, DS_ABSURD, "0", "-1");
                what = setDs(list, TagFromName.PixelSpacing, v, v);
            }
            case 3 -> what = setDs(list, TagFromName.ImagePositionPatient, "0", pick(random, "NaN", "Infinity",
                    "-Infinity", "1e308", "-1e308"), "0");
            case 4 -> {
                String v = pick(random, "NaN", "Infinity", "0", "1e308");
                what = setDs(list, TagFromName.ImageOrientationPatient, v, "0", "0", "0", v, "0");
            }
            case 5 -> what = setDs(list, TagFromName.SliceThickness, pick(random, "NaN", "Infinity", "-1", "1e308"));
            case 6 -> what = setUs(list, TagFromName.BitsStored, pick(random, 0, 17, 65535));
            case 7 -> what = setUs(list, TagFromName.HighBit, pick(random, 0, 16, 65535));
            case 8 -> what = setUs(list, TagFromName.PixelRepresentation, pick(random, 2, 65535));
            case 9 -> what = setUs(list, TagFromName.BitsAllocated, pick(random, 0, 8, 12, 32));
            case 10 -> what = setUs(list, TagFromName.Rows, pick(random, 0, 65535));
            default -> what = setUs(list, TagFromName.Columns, pick(random, 0, 65535));
        }
        return new Mutant(i, Kind.ABSURD_VALUE, what, sop, encode(list));
    }

    /**
     * A private sequence (0009,0010 creator, (0009,1001) SQ) nested {@code depth} levels,
     * inserted before Pixel Data (tag order kept), each level an item of undefined length.
     */
    private static byte[] nested(byte[] data, int depth) {
        int at = firstTagAtOrAfter(data, 0x0009_0000);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(data, 0, at);
        byte[] creator = "CTTRIAGE FUZZ ".getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(explicitHeader(0x0009, 0x0010, "LO", creator.length));
        out.writeBytes(creator);
        for (int d = 0; d < depth; d++) {
            out.writeBytes(sequenceHeader(0x0009, 0x1001));
            out.writeBytes(tagAndLength(0xFFFE, 0xE000, 0xFFFFFFFF)); // item, undefined length
        }
        for (int d = 0; d < depth; d++) {
            out.writeBytes(tagAndLength(0xFFFE, 0xE00D, 0)); // item delimitation
            out.writeBytes(tagAndLength(0xFFFE, 0xE0DD, 0)); // sequence delimitation
        }
        out.write(data, at, data.length - at);
        return out.toByteArray();
    }

    private static Mutant hugeLength(int i, String sop, byte[] data, Random random) {
        // Explicit VR little endian: an element with a 2-byte length (short VRs) or a 4-byte one (OB, OW, SQ, UN, UT…).
        List<int[]> elements = elements(data);
        int[] e = elements.get(random.nextInt(elements.size()));
        long claimed = pick(random, 0x7FFFFFF0L, 0xFFFFFFF0L, 0x10000000L, 0xFFFEL);
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (e[1] == 4) {
            b.putInt(e[0] + 8, (int) claimed);
        } else {
            claimed = 0xFFFF;
            b.putShort(e[0] + 6, (short) claimed);
        }
        return new Mutant(i, Kind.HUGE_LENGTH, String.format("length of the element at byte %d set to %d", e[0],
                claimed), sop, data);
    }

    private static Mutant pixelLength(int i, String sop, byte[] data, Random random) {
        int pixel = pixelDataElement(data);
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        long length = Integer.toUnsignedLong(b.getInt(pixel + 8));
        if (random.nextBoolean()) {
            int cut = 2 + 2 * random.nextInt((int) (length / 2) - 1);
            b.putInt(pixel + 8, (int) (length - cut));
            return new Mutant(i, Kind.PIXEL_LENGTH, "pixel data " + cut + " bytes shorter than the header describes",
                    sop, java.util.Arrays.copyOf(data, data.length - cut));
        }
        int extra = 2 + 2 * random.nextInt(4096);
        byte[] longer = java.util.Arrays.copyOf(data, data.length + extra);
        ByteBuffer.wrap(longer).order(ByteOrder.LITTLE_ENDIAN).putInt(pixel + 8, (int) (length + extra));
        return new Mutant(i, Kind.PIXEL_LENGTH, "pixel data " + extra + " bytes longer than the header describes", sop,
                longer);
    }

    /** Offsets and length-field sizes (2 or 4) of the top-level elements before Pixel Data. */
    private static List<int[]> elements(byte[] data) {
        List<int[]> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int at = 0;
        int pixel = pixelDataElement(data);
        while (at < pixel) {
            String vr = new String(data, at + 4, 2, StandardCharsets.US_ASCII);
            boolean longForm = switch (vr) {
                case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV" -> true;
                default -> false;
            };
            out.add(new int[] {at, longForm ? 4 : 2});
            long length = longForm ? Integer.toUnsignedLong(b.getInt(at + 8)) : Short.toUnsignedInt(b.getShort(at + 6));
            at += (longForm ? 12 : 8) + (int) length;
        }
        return out;
    }

    private static int pixelDataElement(byte[] data) {
        return firstTagAtOrAfter(data, TagFromName.PixelData.getGroup() << 16 | TagFromName.PixelData.getElement());
    }

    /** The offset of the first top-level element whose tag is at or after {@code tag}. */
    private static int firstTagAtOrAfter(byte[] data, int tag) {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int at = 0;
        while (at < data.length) {
            int t = Short.toUnsignedInt(b.getShort(at)) << 16 | Short.toUnsignedInt(b.getShort(at + 2));
            if (Integer.compareUnsigned(t, tag) >= 0) {
                return at;
            }
            String vr = new String(data, at + 4, 2, StandardCharsets.US_ASCII);
            boolean longForm = switch (vr) {
                case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV" -> true;
                default -> false;
            };
            long length = longForm ? Integer.toUnsignedLong(b.getInt(at + 8)) : Short.toUnsignedInt(b.getShort(at + 6));
            at += (longForm ? 12 : 8) + (int) length;
        }
        return data.length;
    }

    private static byte[] explicitHeader(int group, int element, String vr, int length) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putShort((short) group).putShort((short) element)
                .put(vr.getBytes(StandardCharsets.US_ASCII)).putShort((short) length).array();
    }

    private static byte[] sequenceHeader(int group, int element) {
        return ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putShort((short) group).putShort((short) element)
                .put("SQ".getBytes(StandardCharsets.US_ASCII)).putShort((short) 0).putInt(0xFFFFFFFF).array();
    }

    private static byte[] tagAndLength(int group, int element, int length) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putShort((short) group).putShort((short) element)
                .putInt(length).array();
    }

    private static byte[] encode(AttributeList list) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DicomOutputStream out = new DicomOutputStream(bytes, null, TransferSyntax.ExplicitVRLittleEndian)) {
            list.write(out);
        }
        return bytes.toByteArray();
    }

    private static void set(AttributeList list, AttributeTag tag, String value) throws Exception {
        Attribute a = list.putNewAttribute(tag);
        a.addValue(value);
    }

    private static String setDs(AttributeList list, AttributeTag tag, String... values) throws Exception {
        Attribute a = list.putNewAttribute(tag);
        for (String v : values) {
            a.addValue(v);
        }
        return list.getDictionary().getNameFromTag(tag) + " = " + String.join("\\", values);
    }

    private static String setUs(AttributeList list, AttributeTag tag, int value) throws Exception {
        Attribute a = list.putNewAttribute(tag);
        a.addValue(value);
        return list.getDictionary().getNameFromTag(tag) + " = " + value;
    }

    @SafeVarargs
    private static <T> T pick(Random random, T... values) {
        return values[random.nextInt(values.length)];
    }

    private static String pick(Random random, String[] first, String... more) {
        String[] all = java.util.Arrays.copyOf(first, first.length + more.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all[random.nextInt(all.length)];
    }
}
