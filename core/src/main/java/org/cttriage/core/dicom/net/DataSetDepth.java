package org.cttriage.core.dicom.net;

import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomDictionary;
import com.pixelmed.dicom.ValueRepresentation;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * How deeply the sequences of a data set nest, found by walking element headers without
 * recursion and skipping every value. PixelMed's parser recurses once per nesting level, so a
 * data set nested some thousands of levels deep overflows the stack of the thread parsing it;
 * this walk runs first and refuses such a data set. Little endian only (the transfer syntaxes
 * the node accepts). Anything it cannot follow it leaves to the real parser, which answers
 * "cannot understand" for broken data.
 */
final class DataSetDepth {
    /**
     * Deepest nesting accepted. Enhanced CT functional groups nest 3-4 levels and deep SR content
     * trees about a dozen; 32 leaves room and stays far from what overflows a thread's stack.
     */
    static final int MAX_NESTING_DEPTH = 32;
    private static final long UNDEFINED = 0xFFFF_FFFFL;
    private static final int ITEM_GROUP = 0xFFFE;
    private static final int ITEM = 0xE000;
    private static final int ITEM_DELIMITATION = 0xE00D;
    private static final int SEQUENCE_DELIMITATION = 0xE0DD;
    private static final int PIXEL_DATA_GROUP = 0x7FE0;

    private enum Kind { SEQUENCE, ITEM, FRAGMENTS }

    private record Frame(Kind kind, long end) {
    }

    private final InputStream in;
    private final boolean implicitVr;
    private final byte[] buffer = new byte[8];
    private long pos;

    private DataSetDepth(InputStream in, boolean implicitVr) {
        this.in = in;
        this.implicitVr = implicitVr;
    }

    /** True when the data set in {@code file} from {@code offset} on nests deeper than {@code limit}. */
    static boolean exceeds(Path file, long offset, boolean implicitVr, int limit) throws IOException {
        try (InputStream raw = Files.newInputStream(file)) {
            raw.skipNBytes(offset);
            return new DataSetDepth(new BufferedInputStream(raw, 8192), implicitVr).exceeds(limit);
        } catch (EOFException e) {
            return false;
        }
    }

    /** True when the data set read from {@code in} nests deeper than {@code limit}. */
    static boolean exceeds(InputStream in, boolean implicitVr, int limit) throws IOException {
        return new DataSetDepth(in, implicitVr).exceeds(limit);
    }

    private boolean exceeds(int limit) throws IOException {
        Deque<Frame> stack = new ArrayDeque<>();
        int depth = 0;
        try {
            while (true) {
                while (!stack.isEmpty() && stack.peek().end() != UNDEFINED && pos >= stack.peek().end()) {
                    depth -= stack.pop().kind() == Kind.SEQUENCE ? 1 : 0;
                }
                if (!fill(4, true)) {
                    return false;
                }
                int group = u16(0);
                int element = u16(2);
                if (group == ITEM_GROUP) {
                    fill(4, false);
                    long length = u32(0);
                    Frame top = stack.peek();
                    if (element == ITEM) {
                        if (top != null && top.kind() == Kind.FRAGMENTS) {
                            skip(length);
                        } else {
                            stack.push(new Frame(Kind.ITEM, length == UNDEFINED ? UNDEFINED : pos + length));
                        }
                    } else if (element == ITEM_DELIMITATION) {
                        if (top != null && top.kind() == Kind.ITEM) {
                            stack.pop();
                        }
                    } else if (element == SEQUENCE_DELIMITATION && top != null && top.kind() != Kind.ITEM) {
                        depth -= stack.pop().kind() == Kind.SEQUENCE ? 1 : 0;
                    }
                    continue;
                }
                byte[] vr;
                long length;
                if (implicitVr) {
                    fill(4, false);
                    length = u32(0);
                    vr = DicomDictionary.StandardDictionary.getValueRepresentationFromTag(new AttributeTag(group, element));
                } else {
                    fill(4, false);
                    vr = new byte[] {buffer[0], buffer[1]};
                    if (longLengthVr(vr)) {
                        fill(4, false);
                        length = u32(0);
                    } else {
                        length = u16(2);
                    }
                }
                boolean sequence = vr != null && ValueRepresentation.isSequenceVR(vr);
                if (length == UNDEFINED) {
                    if (group == PIXEL_DATA_GROUP && !sequence) {
                        stack.push(new Frame(Kind.FRAGMENTS, UNDEFINED));
                        continue;
                    }
                    // Undefined length is a sequence for SQ, for UN (PS3.5 6.2.2) and for any
                    // implicit VR element; counted as one even where the parser might not agree.
                    stack.push(new Frame(Kind.SEQUENCE, UNDEFINED));
                    depth++;
                } else if (sequence) {
                    stack.push(new Frame(Kind.SEQUENCE, pos + length));
                    depth++;
                } else {
                    skip(length);
                }
                if (depth > limit) {
                    return true;
                }
            }
        } catch (EOFException e) {
            return false;
        }
    }

    /** The VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 Table 7.1-1). */
    private static boolean longLengthVr(byte[] vr) {
        String v = new String(vr, java.nio.charset.StandardCharsets.US_ASCII);
        return switch (v) {
            case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV" -> true;
            default -> false;
        };
    }

    /** Reads {@code n} bytes into the buffer; false at a clean end of stream when {@code endAllowed}. */
    private boolean fill(int n, boolean endAllowed) throws IOException {
        int got = 0;
        while (got < n) {
            int r = in.read(buffer, got, n - got);
            if (r < 0) {
                if (got == 0 && endAllowed) {
                    return false;
                }
                throw new EOFException();
            }
            got += r;
        }
        pos += n;
        return true;
    }

    private void skip(long n) throws IOException {
        in.skipNBytes(n);
        pos += n;
    }

    private int u16(int at) {
        return (buffer[at] & 0xff) | ((buffer[at + 1] & 0xff) << 8);
    }

    private long u32(int at) {
        return (buffer[at] & 0xffL) | ((buffer[at + 1] & 0xffL) << 8) | ((buffer[at + 2] & 0xffL) << 16)
                | ((buffer[at + 3] & 0xffL) << 24);
    }
}
