package org.cttriage.core.dicom.net;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Passes PDUs through unchanged and tells when one that ends the association leaves: an
 * A-RELEASE-RP or an A-ABORT (PS3.8 9.3.7, 9.3.8). Follows the PDU framing (type, reserved,
 * 4-byte big-endian length) across however the writer splits its writes.
 */
final class PduWatchingOutputStream extends FilterOutputStream {
    /** PDU type of A-RELEASE-RP (PS3.8 Table 9-25). */
    static final int A_RELEASE_RP = 6;
    /** PDU type of A-ABORT (PS3.8 Table 9-26). */
    static final int A_ABORT = 7;
    private static final int HEADER = 6;

    private final Runnable ended;
    private final byte[] header = new byte[HEADER];
    private int headerBytes;
    private long bodyLeft;

    PduWatchingOutputStream(OutputStream out, Runnable ended) {
        super(out);
        this.ended = ended;
    }

    @Override
    public void write(int b) throws IOException {
        out.write(b);
        if (bodyLeft > 0) {
            bodyLeft--;
        } else {
            header((byte) b);
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        watch(b, off, len);
    }

    private void watch(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end) {
            if (bodyLeft > 0) {
                int skip = (int) Math.min(bodyLeft, end - i);
                bodyLeft -= skip;
                i += skip;
                continue;
            }
            header(b[i++]);
        }
    }

    /** One more byte of a PDU header; on its last, what the PDU is and how long its body. */
    private void header(byte b) {
        header[headerBytes++] = b;
        if (headerBytes == HEADER) {
            headerBytes = 0;
            bodyLeft = ((header[2] & 0xFFL) << 24) | ((header[3] & 0xFF) << 16) | ((header[4] & 0xFF) << 8)
                    | (header[5] & 0xFF);
            int type = header[0] & 0xFF;
            if (type == A_RELEASE_RP || type == A_ABORT) {
                ended.run();
            }
        }
    }
}
