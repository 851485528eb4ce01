package org.cttriage.core.dicom.net;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import com.pixelmed.network.CEchoRequestCommandMessage;
import com.pixelmed.network.CStoreRequestCommandMessage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A DICOM peer that speaks raw PDUs (PS3.8 section 9.3), so that tests can send what no
 * toolkit would: malformed, truncated, oversized, out-of-order and slow PDUs. Every PDU is
 * built by hand from the standard's layout; PixelMed is used only for the DIMSE command sets.
 */
public final class ScriptedPeer implements AutoCloseable {
    public static final int A_ASSOCIATE_RQ = 0x01;
    public static final int A_ASSOCIATE_AC = 0x02;
    public static final int A_ASSOCIATE_RJ = 0x03;
    public static final int P_DATA_TF = 0x04;
    public static final int A_RELEASE_RQ = 0x05;
    public static final int A_RELEASE_RP = 0x06;
    public static final int A_ABORT = 0x07;
    public static final String APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1";
    public static final String IMPLEMENTATION_CLASS = "1.2.826.0.1.3680043.10.1045.1";
    /** How long the peer waits for an answer before the test fails: a deadline, not a measurement. */
    public static final Duration ANSWER_DEADLINE = Duration.ofSeconds(30);

    /** One presentation context proposed in an A-ASSOCIATE-RQ. */
    public record Context(int id, String abstractSyntax, List<String> transferSyntaxes) {
        public static Context verification(int id) {
            return new Context(id, SOPClass.Verification, List.of(TransferSyntax.ImplicitVRLittleEndian));
        }

        public static Context ct(int id) {
            return new Context(id, SOPClass.CTImageStorage, List.of(TransferSyntax.ExplicitVRLittleEndian));
        }
    }

    /** A PDU as read from the node: its type and variable field. {@code type} -1 is end of stream. */
    public record Pdu(int type, byte[] body) {
        public static final Pdu CLOSED = new Pdu(-1, new byte[0]);

        /** A-ABORT source (PS3.8 Table 9-26). */
        public int abortSource() {
            return body[2] & 0xff;
        }

        /** A-ABORT reason/diag. */
        public int abortReason() {
            return body[3] & 0xff;
        }

        /** A-ASSOCIATE-RJ result, source, reason (PS3.8 Table 9-21). */
        public int[] rejection() {
            return new int[] {body[1] & 0xff, body[2] & 0xff, body[3] & 0xff};
        }

        /** The results of the presentation contexts in an A-ASSOCIATE-AC, by context id. */
        public java.util.Map<Integer, Integer> contextResults() {
            java.util.Map<Integer, Integer> results = new java.util.TreeMap<>();
            int i = 68;
            while (i + 4 <= body.length) {
                int itemType = body[i] & 0xff;
                int length = ((body[i + 2] & 0xff) << 8) | (body[i + 3] & 0xff);
                if (itemType == 0x21) {
                    results.put(body[i + 4] & 0xff, body[i + 6] & 0xff);
                }
                i += 4 + length;
            }
            return results;
        }

        /** The DIMSE Status of a command PDV in this P-DATA-TF, or -1. */
        public int dimseStatus() throws Exception {
            int pdvLength = ByteBuffer.wrap(body, 0, 4).getInt();
            if ((body[5] & 0x01) == 0) {
                return -1;
            }
            AttributeList list = new AttributeList();
            list.read(new DicomInputStream(new ByteArrayInputStream(body, 6, pdvLength - 2),
                    TransferSyntax.ImplicitVRLittleEndian, false));
            return Attribute.getSingleIntegerValueOrDefault(list, TagFromName.Status, -1);
        }

        @Override
        public String toString() {
            return type == -1 ? "end of stream" : "PDU type " + type + " (" + body.length + " bytes)";
        }
    }

    private final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;

    private ScriptedPeer(Socket socket) throws IOException {
        this.socket = socket;
        socket.setTcpNoDelay(true);
        socket.setSoTimeout((int) ANSWER_DEADLINE.toMillis());
        this.out = socket.getOutputStream();
        this.in = new DataInputStream(socket.getInputStream());
    }

    public static ScriptedPeer connect(int port) throws IOException {
        return new ScriptedPeer(new Socket(InetAddress.getLoopbackAddress(), port));
    }

    /** Sends bytes as they are. */
    public ScriptedPeer send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Sends {@code bytes} one at a time, {@code pause} apart (a slow-loris peer). */
    public void trickle(byte[] bytes, Duration pause) throws IOException, InterruptedException {
        for (byte b : bytes) {
            out.write(b);
            out.flush();
            Thread.sleep(pause.toMillis());
        }
    }

    /** Reads the next PDU; {@link Pdu#CLOSED} when the node closed the connection. */
    public Pdu read() throws IOException {
        byte[] header = new byte[6];
        try {
            in.readFully(header);
        } catch (EOFException | SocketException e) {
            return Pdu.CLOSED;
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the node did not answer within " + ANSWER_DEADLINE, e);
        }
        long length = ByteBuffer.wrap(header, 2, 4).getInt() & 0xffffffffL;
        if (length > 1 << 20) {
            throw new AssertionError("the node sent a PDU claiming " + length + " bytes");
        }
        byte[] body = new byte[(int) length];
        in.readFully(body);
        return new Pdu(header[0] & 0xff, body);
    }

    /** Reads PDUs until one that is not P-DATA-TF, or the end of the stream. */
    public Pdu readUntilNotPData() throws IOException {
        Pdu p;
        do {
            p = read();
        } while (p.type() == P_DATA_TF);
        return p;
    }

    /** True when the node closed the connection (after anything it still had to say). */
    public boolean closedByNode() throws IOException {
        return read().type() == -1;
    }

    /** Associates with C-ECHO and CT Image Storage contexts and returns the A-ASSOCIATE-AC. */
    public Pdu associate(String called, String calling) throws IOException {
        send(associateRq(called, calling, List.of(Context.verification(1), Context.ct(3)), 16384));
        Pdu answer = read();
        if (answer.type() != A_ASSOCIATE_AC) {
            throw new AssertionError("association not accepted: " + answer);
        }
        return answer;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    // ----- PDU builders (PS3.8 9.3) -----

    /** An A-ASSOCIATE-RQ PDU (PS3.8 9.3.2) with protocol version 1. */
    public static byte[] associateRq(String called, String calling, List<Context> contexts, int maxPdu) {
        return associateRq(1, aeField(called), aeField(calling), contexts, maxPdu);
    }

    public static byte[] associateRq(int protocolVersion, byte[] called, byte[] calling, List<Context> contexts, int maxPdu) {
        ByteArrayOutputStream items = new ByteArrayOutputStream();
        item(items, 0x10, ascii(APPLICATION_CONTEXT));
        for (Context c : contexts) {
            ByteArrayOutputStream pc = new ByteArrayOutputStream();
            pc.write(c.id());
            pc.writeBytes(new byte[3]);
            item(pc, 0x30, ascii(c.abstractSyntax()));
            for (String ts : c.transferSyntaxes()) {
                item(pc, 0x40, ascii(ts));
            }
            item(items, 0x20, pc.toByteArray());
        }
        ByteArrayOutputStream user = new ByteArrayOutputStream();
        item(user, 0x51, ByteBuffer.allocate(4).putInt(maxPdu).array());
        item(user, 0x52, ascii(IMPLEMENTATION_CLASS));
        item(items, 0x50, user.toByteArray());
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(protocolVersion >> 8);
        body.write(protocolVersion);
        body.writeBytes(new byte[2]);
        body.writeBytes(called);
        body.writeBytes(calling);
        body.writeBytes(new byte[32]);
        body.writeBytes(items.toByteArray());
        return pdu(A_ASSOCIATE_RQ, body.toByteArray());
    }

    /** A 16-byte AE title field, space padded. */
    public static byte[] aeField(String ae) {
        byte[] field = new byte[16];
        java.util.Arrays.fill(field, (byte) ' ');
        byte[] a = ae.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(a, 0, field, 0, Math.min(16, a.length));
        return field;
    }

    /** A PDU: type, reserved, 4-byte big-endian length, variable field. */
    public static byte[] pdu(int type, byte[] body) {
        return ByteBuffer.allocate(6 + body.length).put((byte) type).put((byte) 0).putInt(body.length).put(body).array();
    }

    /** Only a PDU header claiming {@code length} bytes. */
    public static byte[] pduHeader(int type, long length) {
        return ByteBuffer.allocate(6).put((byte) type).put((byte) 0).putInt((int) length).array();
    }

    /** A P-DATA-TF PDU (PS3.8 9.3.5) with one PDV. */
    public static byte[] pData(int contextId, boolean command, boolean last, byte[] value) {
        return pdu(P_DATA_TF, pdv(contextId, command, last, value));
    }

    /** A PDV item: length, presentation context id, message control header (E.2), value. */
    public static byte[] pdv(int contextId, boolean command, boolean last, byte[] value) {
        return ByteBuffer.allocate(6 + value.length).putInt(2 + value.length).put((byte) contextId)
                .put((byte) ((command ? 1 : 0) | (last ? 2 : 0))).put(value).array();
    }

    public static byte[] releaseRq() {
        return pdu(A_RELEASE_RQ, new byte[4]);
    }

    public static byte[] abort(int source, int reason) {
        return pdu(A_ABORT, new byte[] {0, 0, (byte) source, (byte) reason});
    }

    public static byte[] echoCommand() throws Exception {
        return new CEchoRequestCommandMessage().getBytes();
    }

    public static byte[] storeCommand(String sopInstanceUid) throws Exception {
        return new CStoreRequestCommandMessage(SOPClass.CTImageStorage, sopInstanceUid).getBytes();
    }

    /** Splits {@code data} into data PDVs of at most {@code fragment} bytes, one PDU each. */
    public static List<byte[]> dataPdus(int contextId, byte[] data, int fragment) {
        List<byte[]> pdus = new ArrayList<>();
        for (int off = 0; off < data.length; off += fragment) {
            int n = Math.min(fragment, data.length - off);
            pdus.add(pData(contextId, false, off + n == data.length, java.util.Arrays.copyOfRange(data, off, off + n)));
        }
        return pdus;
    }

    private static void item(ByteArrayOutputStream to, int type, byte[] value) {
        to.write(type);
        to.write(0);
        to.write(value.length >> 8);
        to.write(value.length);
        to.writeBytes(value);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Reads everything until the node closes, for tests that only care that it did. */
    public static void drain(InputStream in) throws IOException {
        in.transferTo(OutputStream.nullOutputStream());
    }
}
