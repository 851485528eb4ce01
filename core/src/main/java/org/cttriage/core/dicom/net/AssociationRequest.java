package org.cttriage.core.dicom.net;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

/**
 * The parts of an A-ASSOCIATE-RQ (PS3.8 9.3.2) that the association policy decides on, read
 * before PixelMed negotiates so that a rejection is an A-ASSOCIATE-RJ, not an abort. The PDU's
 * structure is checked here (every item and sub-item length consistent with the PDU's), so that
 * PixelMed only ever parses a well-formed request.
 *
 * @param calledAeTitle the AE title the peer asked for, without its space padding
 * @param callingAeTitle the peer's AE title, without its space padding
 * @param remoteAddress the peer's address
 * @param protocolVersion the Protocol-version field (bit 0 set: version 1)
 * @param pdu the whole PDU as received, replayed to PixelMed when accepted
 */
public record AssociationRequest(String calledAeTitle, String callingAeTitle, InetAddress remoteAddress,
        int protocolVersion, byte[] pdu) {
    /** PDU type of A-ASSOCIATE-RQ (PS3.8 Table 9-11). */
    static final int A_ASSOCIATE_RQ = Pdu.A_ASSOCIATE_RQ;
    /** PDU type of A-ASSOCIATE-RJ (PS3.8 Table 9-21). */
    static final int A_ASSOCIATE_RJ = Pdu.A_ASSOCIATE_RJ;
    /**
     * Bound on an A-ASSOCIATE-RQ; real ones are a few kB, 128 presentation contexts with many
     * transfer syntaxes each stay under 100 kB. A longer claim is answered before anything is read.
     */
    static final int MAXIMUM_RQ_LENGTH = 256 * 1024;
    private static final int AE_TITLE_LENGTH = 16;
    /** Offsets within the PDU: type(1) reserved(1) length(4) version(2) reserved(2). */
    private static final int PROTOCOL_VERSION_OFFSET = 6;
    private static final int CALLED_AE_OFFSET = 10;
    private static final int CALLING_AE_OFFSET = CALLED_AE_OFFSET + AE_TITLE_LENGTH;
    /** The fixed fields end, and the variable items begin, after 32 reserved bytes. */
    private static final int ITEMS_OFFSET = CALLING_AE_OFFSET + AE_TITLE_LENGTH + 32;
    private static final int ITEM_HEADER = 4;
    /** Item types (PS3.8 9.3.2.1-9.3.2.3, Annex D.1). */
    private static final int APPLICATION_CONTEXT_ITEM = 0x10;
    private static final int PRESENTATION_CONTEXT_ITEM = 0x20;
    private static final int ABSTRACT_SYNTAX_SUB_ITEM = 0x30;
    private static final int TRANSFER_SYNTAX_SUB_ITEM = 0x40;
    private static final int USER_INFORMATION_ITEM = 0x50;
    private static final int MAXIMUM_LENGTH_SUB_ITEM = 0x51;
    /** Presentation context item: ID(1) and three reserved bytes before its sub-items. */
    private static final int PRESENTATION_CONTEXT_FIXED = 4;

    /**
     * Reads one A-ASSOCIATE-RQ PDU, the first PDU of a connection (state Sta2).
     *
     * @throws ProtocolViolation when the first PDU is not an A-ASSOCIATE-RQ or is malformed (with
     *     the A-ABORT to answer, PS3.8 AA-1; none for an A-ABORT, AA-2), or ARTIM expired
     *     (from {@code in})
     * @throws IOException when the stream ends early
     */
    public static AssociationRequest read(InputStream in, InetAddress remote) throws IOException {
        DataInputStream data = new DataInputStream(in);
        byte[] header = new byte[Pdu.HEADER_LENGTH];
        data.readFully(header);
        int type = header[0] & 0xff;
        long length = Pdu.length(header);
        if (type == Pdu.A_ABORT) {
            throw new PeerAbortedEarly();
        }
        if (type != A_ASSOCIATE_RQ) {
            throw ProtocolViolation.beforeAssociation(Pdu.name(type) + " before any A-ASSOCIATE-RQ");
        }
        if (length + Pdu.HEADER_LENGTH < ITEMS_OFFSET || length > MAXIMUM_RQ_LENGTH) {
            throw ProtocolViolation.beforeAssociation("A-ASSOCIATE-RQ claims " + length + " bytes (allowed "
                    + (ITEMS_OFFSET - Pdu.HEADER_LENGTH) + "-" + MAXIMUM_RQ_LENGTH + ")");
        }
        byte[] pdu = new byte[(int) length + Pdu.HEADER_LENGTH];
        System.arraycopy(header, 0, pdu, 0, Pdu.HEADER_LENGTH);
        data.readFully(pdu, Pdu.HEADER_LENGTH, (int) length);
        checkItems(pdu);
        int version = ((pdu[PROTOCOL_VERSION_OFFSET] & 0xff) << 8) | (pdu[PROTOCOL_VERSION_OFFSET + 1] & 0xff);
        return new AssociationRequest(aeTitle(pdu, CALLED_AE_OFFSET), aeTitle(pdu, CALLING_AE_OFFSET), remote, version,
                pdu);
    }

    /** The peer sent an A-ABORT as its first PDU (Sta2 + Evt16: AA-2, close, nothing to answer). */
    static final class PeerAbortedEarly extends IOException {
        PeerAbortedEarly() {
            super("A-ABORT before any A-ASSOCIATE-RQ");
        }
    }

    /** True when bit 0 of the Protocol-version field is set (PS3.8 9.3.2), the only version there is. */
    public boolean protocolVersionSupported() {
        return (protocolVersion & 1) == 1;
    }

    /**
     * True for a valid AE title (PS3.5 Table 6.2-1, AE): 1-16 characters of the default repertoire,
     * no backslash, no control characters, not only spaces.
     */
    public static boolean validAeTitle(String title) {
        if (title.isEmpty() || title.length() > AE_TITLE_LENGTH) {
            return false;
        }
        for (int i = 0; i < title.length(); i++) {
            char c = title.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '\\') {
                return false;
            }
        }
        return true;
    }

    /** {@code text} with every character outside printable ASCII written as \xNN, for log lines. */
    public static String printable(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                b.append(String.format("\\x%02X", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * Checks that the variable items tile the PDU exactly, each item's sub-items tile the item, and
     * the mandatory ones are there once (PS3.8 9.3.2): one application context, at least one
     * presentation context with one abstract syntax and at least one transfer syntax, one user
     * information item whose maximum-length sub-item is 4 bytes.
     */
    private static void checkItems(byte[] pdu) throws ProtocolViolation {
        int applicationContexts = 0;
        int presentationContexts = 0;
        int userInformation = 0;
        int pos = ITEMS_OFFSET;
        while (pos < pdu.length) {
            int type = pdu[pos] & 0xff;
            int end = itemEnd(pdu, pos, pdu.length, "item");
            switch (type) {
                case APPLICATION_CONTEXT_ITEM -> applicationContexts++;
                case PRESENTATION_CONTEXT_ITEM -> {
                    presentationContexts++;
                    checkPresentationContext(pdu, pos + ITEM_HEADER, end);
                }
                case USER_INFORMATION_ITEM -> {
                    userInformation++;
                    checkUserInformation(pdu, pos + ITEM_HEADER, end);
                }
                default -> throw ProtocolViolation.beforeAssociation(
                        String.format("A-ASSOCIATE-RQ has an item of unrecognized type %02XH", type));
            }
            pos = end;
        }
        if (applicationContexts != 1 || presentationContexts == 0 || userInformation != 1) {
            throw ProtocolViolation.beforeAssociation("A-ASSOCIATE-RQ has " + applicationContexts
                    + " application context, " + presentationContexts + " presentation context and " + userInformation
                    + " user information items");
        }
    }

    private static void checkPresentationContext(byte[] pdu, int start, int end) throws ProtocolViolation {
        if (end - start < PRESENTATION_CONTEXT_FIXED) {
            throw ProtocolViolation.beforeAssociation("A-ASSOCIATE-RQ has a presentation context item of "
                    + (end - start) + " bytes");
        }
        int id = pdu[start] & 0xff;
        if (id % 2 == 0) {
            throw ProtocolViolation.beforeAssociation("A-ASSOCIATE-RQ has presentation context id " + id
                    + " (must be odd)");
        }
        int abstractSyntaxes = 0;
        int transferSyntaxes = 0;
        int pos = start + PRESENTATION_CONTEXT_FIXED;
        while (pos < end) {
            int type = pdu[pos] & 0xff;
            int subEnd = itemEnd(pdu, pos, end, "presentation context sub-item");
            if (type == ABSTRACT_SYNTAX_SUB_ITEM) {
                abstractSyntaxes++;
            } else if (type == TRANSFER_SYNTAX_SUB_ITEM) {
                transferSyntaxes++;
            } else {
                throw ProtocolViolation.beforeAssociation(String.format(
                        "A-ASSOCIATE-RQ presentation context %d has a sub-item of unrecognized type %02XH", id, type));
            }
            pos = subEnd;
        }
        if (abstractSyntaxes != 1 || transferSyntaxes == 0) {
            throw ProtocolViolation.beforeAssociation("A-ASSOCIATE-RQ presentation context " + id + " has "
                    + abstractSyntaxes + " abstract and " + transferSyntaxes + " transfer syntaxes");
        }
    }

    private static void checkUserInformation(byte[] pdu, int start, int end) throws ProtocolViolation {
        int pos = start;
        while (pos < end) {
            int type = pdu[pos] & 0xff;
            int subEnd = itemEnd(pdu, pos, end, "user information sub-item");
            if (type == MAXIMUM_LENGTH_SUB_ITEM && subEnd - pos != ITEM_HEADER + 4) {
                throw ProtocolViolation.beforeAssociation("A-ASSOCIATE-RQ maximum length sub-item of "
                        + (subEnd - pos - ITEM_HEADER) + " bytes (must be 4)");
            }
            pos = subEnd;
        }
    }

    /** The end of the item at {@code pos}, which must lie within {@code limit}. */
    private static int itemEnd(byte[] pdu, int pos, int limit, String what) throws ProtocolViolation {
        if (limit - pos < ITEM_HEADER) {
            throw ProtocolViolation.beforeAssociation("A-ASSOCIATE-RQ " + what + " header cut off: " + (limit - pos)
                    + " bytes left");
        }
        int length = ((pdu[pos + 2] & 0xff) << 8) | (pdu[pos + 3] & 0xff);
        int end = pos + ITEM_HEADER + length;
        if (end > limit) {
            throw ProtocolViolation.beforeAssociation(String.format(
                    "A-ASSOCIATE-RQ %s of type %02XH claims %d bytes, only %d left", what, pdu[pos] & 0xff, length,
                    limit - pos - ITEM_HEADER));
        }
        return end;
    }

    /**
     * The AE title field without its padding: spaces (PS3.8 9.3.2), and trailing NULs, which some
     * old implementations pad with; anything else stays and the policy judges it.
     */
    private static String aeTitle(byte[] pdu, int offset) {
        String field = new String(pdu, offset, AE_TITLE_LENGTH, StandardCharsets.ISO_8859_1);
        int start = 0;
        int end = field.length();
        while (start < end && field.charAt(start) == ' ') {
            start++;
        }
        while (end > start && (field.charAt(end - 1) == ' ' || field.charAt(end - 1) == 0)) {
            end--;
        }
        return field.substring(start, end);
    }

    /** The A-ASSOCIATE-RJ PDU for {@code rejection}. */
    static byte[] rejectPdu(AssociationDecision.Reject rejection) {
        return new byte[] {(byte) A_ASSOCIATE_RJ, 0, 0, 0, 0, 4, 0, (byte) rejection.result().value,
            (byte) rejection.source().value, (byte) rejection.reason()};
    }
}
