package org.cttriage.core.dicom.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PduWatchingOutputStreamTest {
    private static byte[] pdu(int type, byte[] body) {
        byte[] p = new byte[6 + body.length];
        p[0] = (byte) type;
        p[2] = (byte) (body.length >>> 24);
        p[3] = (byte) (body.length >>> 16);
        p[4] = (byte) (body.length >>> 8);
        p[5] = (byte) body.length;
        System.arraycopy(body, 0, p, 6, body.length);
        return p;
    }

    @Test
    void tellsWhenAReleaseResponseOrAbortLeavesAndPassesEveryByteThrough() throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        AtomicInteger ended = new AtomicInteger();
        PduWatchingOutputStream out = new PduWatchingOutputStream(sink, ended::incrementAndGet);

        // A P-DATA-TF whose body is full of bytes that look like PDU types 6 and 7, written a byte at a time.
        byte[] body = new byte[300];
        java.util.Arrays.fill(body, (byte) 6);
        body[0] = 7;
        byte[] pdata = pdu(4, body);
        for (byte b : pdata) {
            out.write(b);
        }
        assertThat(ended).hasValue(0);

        // Then an A-RELEASE-RP split across two writes.
        byte[] releaseRp = pdu(PduWatchingOutputStream.A_RELEASE_RP, new byte[4]);
        out.write(releaseRp, 0, 3);
        assertThat(ended).hasValue(0);
        out.write(releaseRp, 3, releaseRp.length - 3);
        assertThat(ended).hasValue(1);

        out.write(pdu(PduWatchingOutputStream.A_ABORT, new byte[4]));
        assertThat(ended).hasValue(2);
        assertThat(sink.size()).isEqualTo(pdata.length + 2 * releaseRp.length);
    }
}
