package org.cttriage.core.dicom.net;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

/**
 * The parts of an A-ASSOCIATE-RQ (PS3.8 9.3.2) that the association policy decides on, read
 * before PixelMed negotiates so that a rejection is an A-ASSOCIATE-RJ, not an abort.
 *
 * @param calledAeTitle the AE title the peer asked for, trimmed
 * @param callingAeTitle the peer's AE title, trimmed
 * @param remoteAddress the peer's address
 * @param pdu the whole PDU as received, replayed to PixelMed when accepted
 */
public record AssociationRequest(String calledAeTitle, String callingAeTitle, InetAddress remoteAddress, byte[] pdu) {
    /** PDU type of A-ASSOCIATE-RQ (PS3.8 Table 9-11). */
    static final int A_ASSOCIATE_RQ = 1;
    /** PDU type of A-ASSOCIATE-RJ (PS3.8 Table 9-21). */
    static final int A_ASSOCIATE_RJ = 3;
    private static final int PDU_HEADER_LENGTH = 6;
    private static final int AE_TITLE_LENGTH = 16;
    /** Offsets within the PDU: type(1) reserved(1) length(4) version(2) reserved(2). */
    private static final int CALLED_AE_OFFSET = 10;
    private static final int CALLING_AE_OFFSET = CALLED_AE_OFFSET + AE_TITLE_LENGTH;
    private static final int MINIMUM_RQ_LENGTH = CALLING_AE_OFFSET + AE_TITLE_LENGTH + 32;
    /** Generous bound on an A-ASSOCIATE-RQ; real ones are a few kB even with 128 contexts. */
    private static final int MAXIMUM_RQ_LENGTH = 1 << 20;

    /**
     * Reads one A-ASSOCIATE-RQ PDU.
     *
     * @throws IOException when the stream ends early or the first PDU is not a well-formed RQ
     */
    public static AssociationRequest read(InputStream in, InetAddress remote) throws IOException {
        DataInputStream data = new DataInputStream(in);
        byte[] header = new byte[PDU_HEADER_LENGTH];
        data.readFully(header);
        int type = header[0] & 0xff;
        if (type != A_ASSOCIATE_RQ) {
            throw new IOException("first PDU is type " + type + ", not A-ASSOCIATE-RQ");
        }
        long length = ((header[2] & 0xffL) << 24) | ((header[3] & 0xff) << 16) | ((header[4] & 0xff) << 8)
                | (header[5] & 0xff);
        if (length + PDU_HEADER_LENGTH < MINIMUM_RQ_LENGTH || length > MAXIMUM_RQ_LENGTH) {
            throw new IOException("A-ASSOCIATE-RQ length " + length + " out of range");
        }
        byte[] pdu = new byte[(int) length + PDU_HEADER_LENGTH];
        System.arraycopy(header, 0, pdu, 0, PDU_HEADER_LENGTH);
        data.readFully(pdu, PDU_HEADER_LENGTH, (int) length);
        return new AssociationRequest(aeTitle(pdu, CALLED_AE_OFFSET), aeTitle(pdu, CALLING_AE_OFFSET), remote, pdu);
    }

    private static String aeTitle(byte[] pdu, int offset) {
        return new String(pdu, offset, AE_TITLE_LENGTH, StandardCharsets.US_ASCII).trim();
    }

    /** The A-ASSOCIATE-RJ PDU for {@code rejection}. */
    static byte[] rejectPdu(AssociationDecision.Reject rejection) {
        return new byte[] {(byte) A_ASSOCIATE_RJ, 0, 0, 0, 0, 4, 0, (byte) rejection.result().value,
            (byte) rejection.source().value, (byte) rejection.reason()};
    }
}
