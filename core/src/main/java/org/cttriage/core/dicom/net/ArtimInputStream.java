package org.cttriage.core.dicom.net;

import java.io.FilterInputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * The connection's input while the node waits for the A-ASSOCIATE-RQ, under PS3.8's ARTIM timer
 * as one deadline for the whole request: each read may only wait for what is left of it, so a
 * peer sending a byte now and then cannot hold the connection longer than the timeout (a
 * per-read timeout would let it hold it for ever). Counts the bytes received, so that a
 * connection closed before its first byte can be told from a broken request.
 */
final class ArtimInputStream extends FilterInputStream {
    private final Socket socket;
    private final Duration timeout;
    private final long deadline;
    private long received;

    ArtimInputStream(Socket socket, Duration timeout) throws IOException {
        super(socket.getInputStream());
        this.socket = socket;
        this.timeout = timeout;
        this.deadline = System.nanoTime() + timeout.toNanos();
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw expired();
        }
        // SO_TIMEOUT is in whole milliseconds and 0 means none: at least 1 ms.
        socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, left / 1_000_000)));
        try {
            int n = super.read(b, off, len);
            if (n > 0) {
                received += n;
            }
            return n;
        } catch (SocketTimeoutException e) {
            throw expired();
        }
    }

    @Override
    public long skip(long n) throws IOException {
        throw new IOException("not supported while waiting for the A-ASSOCIATE-RQ");
    }

    /** Bytes received so far. */
    long received() {
        return received;
    }

    private ProtocolViolation expired() {
        return ProtocolViolation.artimExpired(received == 0
                ? "no A-ASSOCIATE-RQ within the ARTIM timeout of " + timeout.toMillis() + " ms (silent connection)"
                : "A-ASSOCIATE-RQ incomplete after " + received + " bytes within the ARTIM timeout of "
                        + timeout.toMillis() + " ms");
    }
}
