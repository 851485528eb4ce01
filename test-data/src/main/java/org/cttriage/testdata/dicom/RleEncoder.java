package org.cttriage.testdata.dicom;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * DICOM RLE Lossless encoder (PS3.5 Annex G) for one frame of 16-bit greyscale pixels:
 * two byte segments (most significant bytes first), each PackBits-encoded row by row so
 * that no run crosses a row, each padded to even length, behind the 64-byte RLE header.
 * PixelMed decodes RLE but cannot write it, hence this small encoder.
 */
public final class RleEncoder {
    private RleEncoder() {
    }

    /** Encodes {@code pixels} (rows × columns, row-major) as one RLE frame. */
    public static byte[] encode16(short[] pixels, int offset, int rows, int columns) {
        byte[] high = segment(pixels, offset, rows, columns, 8);
        byte[] low = segment(pixels, offset, rows, columns, 0);
        ByteBuffer out = ByteBuffer.allocate(64 + high.length + low.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(2);
        out.putInt(64);
        out.putInt(64 + high.length);
        for (int i = 3; i < 16; i++) {
            out.putInt(0);
        }
        out.put(high).put(low);
        return out.array();
    }

    private static byte[] segment(short[] pixels, int offset, int rows, int columns, int shift) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(rows * columns / 2 + 16);
        byte[] row = new byte[columns];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < columns; c++) {
                row[c] = (byte) (pixels[offset + r * columns + c] >> shift);
            }
            packBits(row, out);
        }
        if ((out.size() & 1) != 0) {
            out.write(0);
        }
        return out.toByteArray();
    }

    /** PackBits: replicate runs of 2..128 equal bytes, literal runs of 1..128 bytes. */
    private static void packBits(byte[] b, ByteArrayOutputStream out) {
        int n = b.length;
        int i = 0;
        while (i < n) {
            int run = 1;
            while (i + run < n && run < 128 && b[i + run] == b[i]) {
                run++;
            }
            if (run >= 2) {
                out.write(1 - run);
                out.write(b[i]);
                i += run;
                continue;
            }
            int start = i;
            int len = 0;
            while (i < n && len < 128) {
                if (i + 1 < n && b[i + 1] == b[i]) {
                    break; // a replicate run starts here
                }
                i++;
                len++;
            }
            out.write(len - 1);
            out.write(b, start, len);
        }
    }
}
