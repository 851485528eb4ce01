package org.cttriage.core.dicom.net;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * The connection's input once associated (state Sta6), checked PDU by PDU before PixelMed reads
 * it: PixelMed allocates whatever length a PDU header claims and treats every unexpected PDU
 * alike. Here each header is judged as soon as its sixth byte arrives, and each PDV item header
 * inside a P-DATA-TF as soon as it is complete, so nothing the peer claims is ever allocated.
 *
 * <p>What breaks PS3.8 (Evt19 in Sta6, or an unexpected PDU) is answered as action AA-8
 * prescribes: an A-ABORT from the service-provider with a reason, sent here; then the read
 * fails with the {@link ProtocolViolation} and PixelMed closes the connection. What arrives is
 * also remembered for the log line: an A-RELEASE-RQ or A-ABORT from the peer, the end of the
 * stream, a read timeout.
 */
final class PduGuard extends FilterInputStream {
    /**
     * Beyond the maximum length we advertise: some implementations count the PDV item header
     * (or the PDU header) into the maximum; a few bytes more are not worth an abort.
     */
    static final int LENGTH_ALLOWANCE = 64;
    private static final int PDV_HEADER = 6;
    /** After an A-ABORT, bytes the peer may still have in flight that are read and dropped. */
    private static final int DRAIN_LIMIT = 1 << 20;

    private final Socket socket;
    private final OutputStream out;
    private final long maximumPDataLength;
    private final Duration artim;
    private volatile Set<Integer> acceptedContexts = Set.of();

    private final byte[] header = new byte[Pdu.HEADER_LENGTH];
    private int headerBytes;
    private int type;
    private long bodyLeft;
    private final byte[] pdvHeader = new byte[PDV_HEADER];
    private int pdvHeaderBytes;
    private long pdvLeft;
    private final byte[] abortBody = new byte[Pdu.SHORT_PDU_LENGTH];
    private int abortBytes;

    private ProtocolViolation violation;
    private int[] peerAbort;
    private boolean releaseRequested;
    private boolean endOfStream;
    private boolean timedOut;
    private IOException transportError;

    /**
     * @param socket the connection (for its input, and to close the sending side after an A-ABORT)
     * @param out where PDUs to the peer go
     * @param maxPduLength the maximum length we advertised in the A-ASSOCIATE-AC
     * @param artim how long to wait for the peer to close after an A-ABORT (PS3.8 Sta13)
     */
    PduGuard(Socket socket, InputStream in, OutputStream out, int maxPduLength, Duration artim) {
        super(in);
        this.socket = socket;
        this.out = out;
        this.maximumPDataLength = (long) maxPduLength + LENGTH_ALLOWANCE;
        this.artim = artim;
    }

    /** The presentation context ids accepted in the A-ASSOCIATE-AC; PDVs may only name these. */
    void acceptedContexts(Set<Integer> ids) {
        acceptedContexts = Set.copyOf(ids);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (violation != null) {
            throw violation;
        }
        int n;
        try {
            n = super.read(b, off, len);
        } catch (SocketTimeoutException e) {
            timedOut = true;
            throw e;
        } catch (IOException e) {
            transportError = e;
            throw e;
        }
        if (n < 0) {
            endOfStream = true;
        } else {
            inspect(b, off, n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        throw new IOException("PDUs are read, not skipped");
    }

    private void inspect(byte[] b, int off, int len) throws ProtocolViolation {
        int i = off;
        int end = off + len;
        while (i < end) {
            if (bodyLeft == 0) {
                header[headerBytes++] = b[i++];
                if (headerBytes == Pdu.HEADER_LENGTH) {
                    headerBytes = 0;
                    pduHeader();
                }
            } else if (type == Pdu.P_DATA_TF) {
                if (pdvLeft == 0) {
                    pdvHeader[pdvHeaderBytes++] = b[i++];
                    bodyLeft--;
                    if (pdvHeaderBytes == PDV_HEADER) {
                        pdvHeaderBytes = 0;
                        pdvHeader();
                    } else if (bodyLeft == 0) {
                        throw abort(Pdu.AbortReason.INVALID_PDU_PARAMETER_VALUE, "P-DATA-TF ends " + pdvHeaderBytes
                                + " bytes into a PDV item header");
                    }
                } else {
                    int skip = (int) Math.min(pdvLeft, end - i);
                    pdvLeft -= skip;
                    bodyLeft -= skip;
                    i += skip;
                }
            } else if (type == Pdu.A_ABORT) {
                abortBody[abortBytes++] = b[i++];
                bodyLeft--;
                if (bodyLeft == 0) {
                    peerAbort = new int[] {abortBody[2] & 0xff, abortBody[3] & 0xff};
                }
            } else {
                int skip = (int) Math.min(bodyLeft, end - i);
                bodyLeft -= skip;
                i += skip;
            }
        }
    }

    /** A PDU header is complete: judge it before anyone allocates what it claims. */
    private void pduHeader() throws ProtocolViolation {
        type = header[0] & 0xff;
        long length = Pdu.length(header);
        switch (type) {
            case Pdu.P_DATA_TF -> {
                if (length > maximumPDataLength) {
                    throw abort(Pdu.AbortReason.INVALID_PDU_PARAMETER_VALUE, "P-DATA-TF claims " + length
                            + " bytes, more than the maximum of " + (maximumPDataLength - LENGTH_ALLOWANCE)
                            + " we advertised");
                }
                if (length < PDV_HEADER) {
                    throw abort(Pdu.AbortReason.INVALID_PDU_PARAMETER_VALUE, "P-DATA-TF of " + length
                            + " bytes holds no PDV item");
                }
                pdvHeaderBytes = 0;
                pdvLeft = 0;
            }
            case Pdu.A_RELEASE_RQ, Pdu.A_ABORT -> {
                if (length != Pdu.SHORT_PDU_LENGTH) {
                    throw abort(Pdu.AbortReason.INVALID_PDU_PARAMETER_VALUE, Pdu.name(type) + " claims " + length
                            + " bytes (must be " + Pdu.SHORT_PDU_LENGTH + ")");
                }
                releaseRequested |= type == Pdu.A_RELEASE_RQ;
                abortBytes = 0;
            }
            case Pdu.A_ASSOCIATE_RQ, Pdu.A_ASSOCIATE_AC, Pdu.A_ASSOCIATE_RJ, Pdu.A_RELEASE_RP ->
                throw abort(Pdu.AbortReason.UNEXPECTED_PDU, Pdu.name(type) + " during data transfer");
            default -> throw abort(Pdu.AbortReason.UNRECOGNIZED_PDU, Pdu.name(type) + " during data transfer");
        }
        bodyLeft = length;
    }

    /** A PDV item header is complete (PS3.8 9.3.5.1): its length must fit its PDU, its context be accepted. */
    private void pdvHeader() throws ProtocolViolation {
        long itemLength = ((pdvHeader[0] & 0xFFL) << 24) | ((pdvHeader[1] & 0xFF) << 16) | ((pdvHeader[2] & 0xFF) << 8)
                | (pdvHeader[3] & 0xFF);
        int context = pdvHeader[4] & 0xff;
        // The item length counts the context id and message control header (2 bytes) already read.
        if (itemLength < 2 || itemLength - 2 > bodyLeft) {
            throw abort(Pdu.AbortReason.INVALID_PDU_PARAMETER_VALUE, "PDV item claims " + itemLength
                    + " bytes with " + (bodyLeft + 2) + " left in its P-DATA-TF");
        }
        if (!acceptedContexts.contains(context)) {
            throw abort(Pdu.AbortReason.INVALID_PDU_PARAMETER_VALUE, "PDV for presentation context " + context
                    + ", which was not accepted");
        }
        pdvLeft = itemLength - 2;
    }

    private ProtocolViolation abort(Pdu.AbortReason reason, String what) {
        violation = ProtocolViolation.inDataTransfer(reason, what);
        sendAndAwaitClose(violation);
        return violation;
    }

    /**
     * The DIMSE layer cannot take a message (an unparseable or unsupported command, data without
     * a command): A-ABORT as service-user, remembered for the log line. Returns the violation to throw.
     */
    ProtocolViolation abortAsServiceUser(org.cttriage.core.error.ErrorCode code, String what) {
        violation = ProtocolViolation.dimse(code, what);
        sendAndAwaitClose(violation);
        return violation;
    }

    /**
     * Sends the A-ABORT, closes our sending side and reads until the peer closes or ARTIM ends
     * (PS3.8 Sta13): closing at once with the peer's bytes unread would reset the connection and
     * could destroy the A-ABORT before the peer reads it.
     */
    private void sendAndAwaitClose(ProtocolViolation v) {
        try {
            out.write(v.answer().orElseThrow());
            out.flush();
            awaitClose(socket, in, artim);
        } catch (IOException e) {
            // the peer is gone already; the abort is logged all the same
        }
    }

    static void awaitClose(Socket socket, InputStream in, Duration artim) throws IOException {
        socket.shutdownOutput();
        long deadline = System.nanoTime() + artim.toNanos();
        byte[] scratch = new byte[8192];
        long drained = 0;
        while (drained < DRAIN_LIMIT) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
            int n;
            try {
                n = in.read(scratch);
            } catch (SocketTimeoutException e) {
                return;
            }
            if (n < 0) {
                return;
            }
            drained += n;
        }
    }

    /** The violation answered with A-ABORT, if any. */
    Optional<ProtocolViolation> violation() {
        return Optional.ofNullable(violation);
    }

    /** The source and reason of the peer's A-ABORT, if it sent one. */
    Optional<int[]> peerAbort() {
        return Optional.ofNullable(peerAbort);
    }

    boolean releaseRequested() {
        return releaseRequested;
    }

    boolean endOfStream() {
        return endOfStream;
    }

    boolean timedOut() {
        return timedOut;
    }

    Optional<IOException> transportError() {
        return Optional.ofNullable(transportError);
    }
}
