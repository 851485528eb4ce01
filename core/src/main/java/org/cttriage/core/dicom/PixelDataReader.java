package org.cttriage.core.dicom;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;

/**
 * Reads image frames and converts stored values to Hounsfield units (rounded to the
 * nearest integer, clamped to the 16-bit range): bits stored and sign honoured, Pixel
 * Padding Value (and range) mapped to a fixed padding HU, then the frame's own Rescale
 * Slope/Intercept. Native little-endian 16-bit data is read straight from the file by
 * offset; everything else (RLE, JPEG Lossless, big endian, deflate, 8-bit) is decoded by
 * PixelMed.
 */
public final class PixelDataReader {
    /**
     * Transfer syntaxes whose pixel data can be decoded exactly. Lossy JPEG would change
     * HU values, and JPEG-LS / JPEG 2000 have no decoder in PixelMed's Debian build.
     */
    public static final Set<String> DECODABLE_TRANSFER_SYNTAXES = Set.of(
            TransferSyntax.ImplicitVRLittleEndian,
            TransferSyntax.ExplicitVRLittleEndian,
            TransferSyntax.ExplicitVRBigEndian,
            TransferSyntax.DeflatedExplicitVRLittleEndian,
            TransferSyntax.RLE,
            TransferSyntax.JPEGLossless,
            TransferSyntax.JPEGLosslessSV1);

    private final short paddingHu;

    /** @param paddingHu HU written where Pixel Padding Value marks a pixel as outside the patient */
    public PixelDataReader(short paddingHu) {
        this.paddingHu = paddingHu;
    }

    /** Where one frame's HU values go. */
    public record FrameTarget(SliceHeader header, short[] destination, int offset) {
    }

    /**
     * Reads every listed frame of one file (all targets must name the same file), so that
     * a compressed multi-frame file is decoded only once.
     */
    public void readFrames(Path file, List<FrameTarget> targets) throws TriageException {
        if (targets.isEmpty()) {
            return;
        }
        boolean allNative = targets.stream().allMatch(t -> t.header().pixelDataOffset() >= 0);
        try {
            if (allNative) {
                readNative(file, targets);
            } else {
                readDecoded(file, targets);
            }
        } catch (IOException | DicomException | RuntimeException e) {
            throw new TriageException(ErrorCode.PIXEL_DATA_CORRUPT,
                    "cannot read pixel data of " + file + ": " + e, e);
        }
    }

    /**
     * One direct buffer per reader thread: the channel fills it without the extra copy the JDK
     * makes for heap buffers, and it is reused for every frame that thread reads.
     */
    private static final ThreadLocal<ByteBuffer> FRAME_BUFFER = new ThreadLocal<>();

    private static ByteBuffer frameBuffer(int bytes) {
        ByteBuffer b = FRAME_BUFFER.get();
        if (b == null || b.capacity() < bytes) {
            b = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
            FRAME_BUFFER.set(b);
        }
        b.clear().limit(bytes);
        return b;
    }

    private void readNative(Path file, List<FrameTarget> targets) throws IOException, TriageException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            for (FrameTarget t : targets) {
                SliceHeader h = t.header();
                int pixels = h.rows() * h.columns();
                int bytes = pixels * 2;
                ByteBuffer buf = frameBuffer(bytes);
                long pos = h.pixelDataOffset() + (long) h.frameIndex() * bytes;
                while (buf.hasRemaining()) {
                    if (ch.read(buf, pos + buf.position()) < 0) {
                        throw new TriageException(ErrorCode.PIXEL_DATA_CORRUPT,
                                "pixel data of " + h.frameId() + " ends early in " + file);
                    }
                }
                buf.flip();
                toHu(buf.asShortBuffer(), h, t.destination(), t.offset());
            }
        }
    }

    private void readDecoded(Path file, List<FrameTarget> targets) throws IOException, DicomException, TriageException {
        String ts = targets.get(0).header().transferSyntaxUid();
        if (!DECODABLE_TRANSFER_SYNTAXES.contains(ts)) {
            throw new TriageException(ErrorCode.UNSUPPORTED_TRANSFER_SYNTAX,
                    "transfer syntax " + ts + " of " + file + " cannot be decoded losslessly");
        }
        AttributeList list = new AttributeList();
        list.read(file.toFile());
        Attribute pixelData = list.get(TagFromName.PixelData);
        if (pixelData == null) {
            throw new TriageException(ErrorCode.PIXEL_DATA_CORRUPT, "no pixel data decoded from " + file);
        }
        for (FrameTarget t : targets) {
            SliceHeader h = t.header();
            int pixels = h.rows() * h.columns();
            int start = h.frameIndex() * pixels;
            if (h.bitsAllocated() == 8) {
                byte[] values = pixelData.getByteValues();
                requireLength(values.length, start + pixels, h, file);
                short[] widened = new short[pixels];
                for (int i = 0; i < pixels; i++) {
                    widened[i] = (short) (values[start + i] & 0xFF);
                }
                toHu(ShortBuffer.wrap(widened), h, t.destination(), t.offset());
            } else {
                short[] values = pixelData.getShortValues();
                requireLength(values.length, start + pixels, h, file);
                toHu(ShortBuffer.wrap(values, start, pixels).slice(), h, t.destination(), t.offset());
            }
        }
    }

    private static void requireLength(int have, int need, SliceHeader h, Path file) throws TriageException {
        if (have < need) {
            throw new TriageException(ErrorCode.PIXEL_DATA_CORRUPT, String.format(
                    "pixel data of %s in %s holds %d values, %d needed", h.frameId(), file, have, need));
        }
    }

    /**
     * Stored values ({@code src}, from its position) to HU in {@code dst[offset…]}: the raw
     * words are bulk-copied into place first, then converted in place by the simplest loop the
     * frame allows, so the common case (no padding, integral rescale) runs at memory speed.
     */
    void toHu(ShortBuffer src, SliceHeader h, short[] dst, int offset) {
        int n = h.rows() * h.columns();
        src.get(dst, offset, n);
        int end = offset + n;
        int bitsStored = h.bitsStored();
        boolean signed = h.pixelRepresentation() == 1;
        int shift = 32 - bitsStored;
        double slope = h.rescaleSlope();
        double intercept = h.rescaleIntercept();
        boolean integral = slope == 1.0 && intercept == Math.rint(intercept)
                && Math.abs(intercept) < Short.MAX_VALUE;
        if (h.paddingValue() == null && integral) {
            int ic = (int) intercept;
            if (signed) {
                for (int i = offset; i < end; i++) {
                    dst[i] = clamp(((dst[i] << shift) >> shift) + ic);
                }
            } else {
                for (int i = offset; i < end; i++) {
                    dst[i] = clamp(((dst[i] << shift) >>> shift) + ic);
                }
            }
            return;
        }
        // Padding values compare against the stored value read with the same sign rules.
        int padLow = Integer.MIN_VALUE;
        int padHigh = Integer.MIN_VALUE;
        if (h.paddingValue() != null) {
            int a = storedValue(h.paddingValue(), shift, signed);
            int b = h.paddingRangeLimit() == null ? a : storedValue(h.paddingRangeLimit(), shift, signed);
            padLow = Math.min(a, b);
            padHigh = Math.max(a, b);
        }
        for (int i = offset; i < end; i++) {
            int v = storedValue(dst[i], shift, signed);
            if (v >= padLow && v <= padHigh) {
                dst[i] = paddingHu;
            } else {
                dst[i] = clamp((int) Math.round(v * slope + intercept));
            }
        }
    }

    private static short clamp(int hu) {
        return (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, hu));
    }

    /** The low {@code bitsStored} bits of a raw word, sign-extended when signed. */
    private static int storedValue(int raw, int shift, boolean signed) {
        int v = raw << shift;
        return signed ? v >> shift : v >>> shift;
    }
}
