package org.cttriage.core.dicom.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.cttriage.core.dicom.net.ScriptedPeer.A_ABORT;
import static org.cttriage.core.dicom.net.ScriptedPeer.A_ASSOCIATE_RJ;
import static org.cttriage.core.dicom.net.ScriptedPeer.A_ASSOCIATE_RQ;
import static org.cttriage.core.dicom.net.ScriptedPeer.A_RELEASE_RP;
import static org.cttriage.core.dicom.net.ScriptedPeer.P_DATA_TF;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.CodeStringAttribute;
import com.pixelmed.dicom.DicomOutputStream;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import com.pixelmed.dicom.UniqueIdentifierAttribute;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.cttriage.testdata.junit.Eventually;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The listener against a scripted misbehaving peer at PDU level (STYLE.md: pynetdicom's third
 * level of real peers). Each case sends what PS3.8's state machine (Table 9-10) names as an event
 * in some state and checks the node's answer (the action the table prescribes), that the heap did
 * not grow by more than {@link #HEAP_BOUND}, that no {@code .part} file is left behind, and that
 * a normal association (C-ECHO and C-STORE) works right after.
 *
 * <p>States and events as PS3.8 9.2 names them: Sta2 = transport open, awaiting A-ASSOCIATE-RQ;
 * Sta6 = data transfer. Evt6 A-ASSOCIATE-RQ received, Evt10 P-DATA-TF received, Evt12
 * A-RELEASE-RQ received, Evt16 A-ABORT received, Evt17 transport closed, Evt18 ARTIM expired,
 * Evt19 unrecognized or invalid PDU. Actions: AA-1 A-ABORT (service-user source), AA-2 close the
 * transport, AA-3 / AA-4 / AA-5 the peer ended it (nothing to send), AA-8 A-ABORT (service-provider
 * source, with a reason), AE-6 accept or A-ASSOCIATE-RJ, AR-2 / AR-4 release (A-RELEASE-RP).
 */
class MisbehavingPeerTest {
    /**
     * What a case may cost in heap: generous against the test JVM's noise, and far below what
     * the defects cost (a 2 GB claimed PDU allocated up front, -Xmx2g in tests).
     */
    static final long HEAP_BOUND = 64L << 20;
    static final String AE = "CTTRIAGE";
    static final String SCU = "SCRIPTED";
    static final Duration TEST_ARTIM = Duration.ofSeconds(1);
    static final int PER_HOST = 4;
    /** Beyond PixelMed's recursion limit with a 1 MB thread stack (seen: StackOverflowError). */
    static final int HOSTILE_DEPTH = 100_000;

    @TempDir
    Path dir;

    private DicomListener listener;
    private final List<String> stored = new CopyOnWriteArrayList<>();
    private final List<String> discarded = new CopyOnWriteArrayList<>();
    /** The cases that cut a C-STORE data set off: the partial instance must be reported discarded. */
    private static final java.util.Set<Case> CUT_OFF_MID_DATA_SET = java.util.EnumSet.of(
            Case.RELEASE_IN_THE_MIDDLE_OF_A_DATA_SET, Case.ABORT_IN_THE_MIDDLE_OF_A_DATA_SET, Case.CLOSED_MID_DATA_SET);
    static final String HALF_SENT_UID = "1.2.826.0.1.3680043.10.1045.7";

    /** What the node is expected to answer. */
    record Answer(int pduType, int first, int second, int third) {
        static Answer abort(int source, int reason) {
            return new Answer(A_ABORT, source, reason, -1);
        }

        static Answer reject(int result, int source, int reason) {
            return new Answer(A_ASSOCIATE_RJ, result, source, reason);
        }

        static Answer status(int status) {
            return new Answer(P_DATA_TF, status, -1, -1);
        }

        static final Answer RELEASE_RP = new Answer(A_RELEASE_RP, -1, -1, -1);
        /** The node closes the transport without a PDU (AA-2), or the peer closed it first (AA-3/4/5). */
        static final Answer CLOSED = new Answer(-1, -1, -1, -1);

        static Answer of(ScriptedPeer.Pdu pdu) throws Exception {
            return switch (pdu.type()) {
                case A_ABORT -> abort(pdu.abortSource(), pdu.abortReason());
                case A_ASSOCIATE_RJ -> reject(pdu.rejection()[0], pdu.rejection()[1], pdu.rejection()[2]);
                case P_DATA_TF -> status(pdu.dimseStatus());
                case A_RELEASE_RP -> RELEASE_RP;
                case -1 -> CLOSED;
                default -> new Answer(pdu.type(), -1, -1, -1);
            };
        }
    }

    @FunctionalInterface
    interface Script {
        /** Plays the misbehaviour and returns the node's answer. */
        Answer play(int port) throws Exception;
    }

    /** The cases; each names the PS3.8 state, event and action it exercises. */
    enum Case {
        /** Sta2 + Evt19 (unrecognized PDU) → AA-1: A-ABORT, service-user source. */
        UNKNOWN_PDU_TYPE_BEFORE_ASSOCIATION(Answer.abort(0, 0), port -> first(port,
                ScriptedPeer.pdu(0x0A, new byte[4]))),
        /** Sta6 + Evt19 (unrecognized PDU) → AA-8: A-ABORT, service-provider, unrecognized-PDU (1). */
        UNKNOWN_PDU_TYPE_IN_DATA_TRANSFER(Answer.abort(2, 1), port -> associated(port,
                ScriptedPeer.pdu(0x0A, new byte[4]))),
        /** Sta6 + Evt19 (P-DATA-TF longer than the maximum we advertised) → AA-8: invalid-PDU-parameter value (6). */
        P_DATA_LENGTH_BEYOND_MAXIMUM(Answer.abort(2, 6), port -> associated(port,
                concat(ScriptedPeer.pduHeader(P_DATA_TF, 0x7FFF_FFF0L), new byte[64]))),
        /** Sta6 + Evt19: a claimed length of 4 GB - 1 (negative as a Java int). */
        P_DATA_LENGTH_NEGATIVE_AS_INT(Answer.abort(2, 6), port -> associated(port,
                concat(ScriptedPeer.pduHeader(P_DATA_TF, 0xFFFF_FFFFL), new byte[64]))),
        /** Sta2 + Evt19 (A-ASSOCIATE-RQ of absurd length) → AA-1: A-ABORT, service-user source. */
        ASSOCIATE_RQ_LENGTH_ABSURD(Answer.abort(0, 0), port -> first(port,
                concat(ScriptedPeer.pduHeader(A_ASSOCIATE_RQ, 0x7FFF_FFF0L), new byte[64]))),
        /** Sta2 + Evt18 (ARTIM expired after half an A-ASSOCIATE-RQ) → AA-2: close the transport. */
        TRUNCATED_ASSOCIATE_RQ_THEN_SILENCE(Answer.CLOSED, port -> {
            byte[] rq = normalRq();
            return first(port, Arrays.copyOf(rq, rq.length / 2));
        }),
        /** Sta2 + Evt18: one byte per interval never completes the A-ASSOCIATE-RQ within ARTIM → AA-2. */
        SLOW_LORIS(Answer.CLOSED, port -> {
            try (ScriptedPeer peer = ScriptedPeer.connect(port)) {
                try {
                    peer.trickle(normalRq(), TEST_ARTIM.dividedBy(4));
                } catch (IOException closedUnderUs) {
                    // the node closed the transport while bytes were still coming: the expected answer
                }
                return Answer.of(peer.read());
            }
        }),
        /** Sta2 + Evt10 (P-DATA-TF before any association) → AA-1: A-ABORT, service-user source. */
        P_DATA_BEFORE_ASSOCIATION(Answer.abort(0, 0), port -> first(port,
                ScriptedPeer.pData(1, true, true, ScriptedPeer.echoCommand()))),
        /** Sta2 + Evt12 (A-RELEASE-RQ before any association) → AA-1. */
        RELEASE_BEFORE_ASSOCIATION(Answer.abort(0, 0), port -> first(port, ScriptedPeer.releaseRq())),
        /** Sta2 + Evt16 (A-ABORT before any association) → AA-2: close, nothing sent. */
        ABORT_BEFORE_ASSOCIATION(Answer.CLOSED, port -> first(port, ScriptedPeer.abort(0, 0))),
        /** Sta6 + Evt6 (a second A-ASSOCIATE-RQ) → AA-8: A-ABORT, service-provider, unexpected-PDU (2). */
        ASSOCIATE_RQ_TWICE(Answer.abort(2, 2), port -> associated(port, normalRq())),
        /** Sta6 + Evt12 (A-RELEASE-RQ with a data set half received) → AR-2/AR-4: A-RELEASE-RP; the partial instance is discarded. */
        RELEASE_IN_THE_MIDDLE_OF_A_DATA_SET(Answer.RELEASE_RP, port -> halfDataSetThen(port, ScriptedPeer.releaseRq())),
        /** Sta6 + Evt16 (A-ABORT with a data set half received) → AA-3: close; the partial instance is discarded. */
        ABORT_IN_THE_MIDDLE_OF_A_DATA_SET(Answer.CLOSED, port -> halfDataSetThen(port, ScriptedPeer.abort(0, 0))),
        /** Sta6 + Evt10 whose PDV names a presentation context that was not accepted: an invalid PDU (Evt19) → AA-8 (6). */
        PDV_WITH_UNACCEPTED_CONTEXT(Answer.abort(2, 6), port -> associated(port,
                ScriptedPeer.pData(5, true, true, ScriptedPeer.echoCommand()))),
        /** Sta6 + Evt19: a PDV item longer than its P-DATA-TF → AA-8 (6). */
        PDV_LENGTH_BEYOND_THE_PDU(Answer.abort(2, 6), port -> {
            byte[] pdu = ScriptedPeer.pData(1, true, true, ScriptedPeer.echoCommand());
            ByteBuffer.wrap(pdu).putInt(6, pdu.length); // the PDV item claims more than the PDU holds
            return associated(port, pdu);
        }),
        /** Sta6 + Evt19: PDV items shorter than the P-DATA-TF (trailing bytes) → AA-8 (6). */
        PDV_LENGTHS_SHORT_OF_THE_PDU(Answer.abort(2, 6), port -> {
            byte[] command = ScriptedPeer.echoCommand();
            byte[] pdv = ScriptedPeer.pdv(1, true, true, command);
            return associated(port, ScriptedPeer.pdu(P_DATA_TF, concat(pdv, new byte[3])));
        }),
        /** Sta2 + Evt6, protocol version without bit 0 (PS3.8 9.3.2) → AE-6: A-ASSOCIATE-RJ permanent, ACSE, protocol-version-not-supported. */
        WRONG_PROTOCOL_VERSION(Answer.reject(1, 2, 2), port -> first(port, ScriptedPeer.associateRq(2,
                ScriptedPeer.aeField(AE), ScriptedPeer.aeField(SCU), contexts(), 16384))),
        /** Sta2 + Evt6, calling AE title with a control character and a backslash (PS3.5 AE VR) → AE-6: RJ permanent, service-user, calling-AE-title-not-recognized. */
        INVALID_AE_TITLE_CHARACTERS(Answer.reject(1, 1, 3), port -> first(port, ScriptedPeer.associateRq(1,
                ScriptedPeer.aeField(AE), ScriptedPeer.aeField("BAD\u0001AE\\X"), contexts(), 16384))),
        /** Sta2 + Evt19: a presentation context item claims more bytes than the A-ASSOCIATE-RQ holds → AA-1. */
        ITEM_LENGTHS_INCONSISTENT_IN_ASSOCIATE_RQ(Answer.abort(0, 0), port -> {
            byte[] rq = normalRq();
            int pc = indexOf(rq, (byte) 0x20, 74);
            ByteBuffer.wrap(rq).putShort(pc + 2, (short) 0x7000);
            return first(port, rq);
        }),
        /** Sta2 + Evt19: sub-items of a presentation context shorter than the item says → AA-1. */
        SUB_ITEM_LENGTHS_INCONSISTENT_IN_ASSOCIATE_RQ(Answer.abort(0, 0), port -> {
            byte[] rq = normalRq();
            int pc = indexOf(rq, (byte) 0x20, 74);
            int abstractSyntax = pc + 8;
            ByteBuffer.wrap(rq).putShort(abstractSyntax + 2, (short) 3);
            return first(port, rq);
        }),
        /** Sta2 + Evt17 (closed right after connecting) → AA-5: nothing to answer. */
        CLOSED_AFTER_CONNECT(Answer.CLOSED, port -> closedAfter(port, new byte[0])),
        /** Sta2 + Evt17 (closed mid A-ASSOCIATE-RQ) → AA-5. */
        CLOSED_MID_ASSOCIATE_RQ(Answer.CLOSED, port -> closedAfter(port, Arrays.copyOf(normalRq(), 20))),
        /** Sta3/Sta6 + Evt17 (closed before reading the A-ASSOCIATE-AC) → AA-4/AA-5. */
        CLOSED_AFTER_ASSOCIATE_RQ(Answer.CLOSED, port -> closedAfter(port, normalRq())),
        /** Sta6 + Evt17 (closed once associated) → AA-4. */
        CLOSED_WHEN_ASSOCIATED(Answer.CLOSED, port -> {
            try (ScriptedPeer peer = ScriptedPeer.connect(port)) {
                peer.associate(AE, SCU);
            }
            return Answer.CLOSED;
        }),
        /** Sta6 + Evt17 (closed mid command set) → AA-4. */
        CLOSED_MID_COMMAND(Answer.CLOSED, port -> {
            try (ScriptedPeer peer = ScriptedPeer.connect(port)) {
                peer.associate(AE, SCU);
                byte[] command = ScriptedPeer.storeCommand("1.2.3.4");
                peer.send(ScriptedPeer.pData(3, true, false, Arrays.copyOf(command, 20)));
            }
            return Answer.CLOSED;
        }),
        /** Sta6 + Evt17 (closed mid data set) → AA-4; the partial instance is discarded. */
        CLOSED_MID_DATA_SET(Answer.CLOSED, port -> {
            try (ScriptedPeer peer = ScriptedPeer.connect(port)) {
                sendHalfDataSet(peer);
            }
            return Answer.CLOSED;
        }),
        /** Sta13 + Evt17 (closed after the node's A-RELEASE-RP) → AR-5. */
        CLOSED_AFTER_RELEASE(Answer.RELEASE_RP, port -> {
            try (ScriptedPeer peer = ScriptedPeer.connect(port)) {
                peer.associate(AE, SCU);
                peer.send(ScriptedPeer.releaseRq());
                return Answer.of(peer.read());
            }
        }),
        /**
         * Sta2, many transport connections from one host, none saying anything: beyond
         * dicom.max-associations-per-host the node closes new ones at once instead of letting
         * them wait (ARTIM is long here, so only the cap can close them).
         */
        MANY_SILENT_CONNECTIONS_FROM_ONE_HOST(Answer.CLOSED, port -> silentThenMore(port, PER_HOST),
                o -> o.withArtimTimeout(Duration.ofMinutes(5))),
        /**
         * Sta2, every association thread held by a silent connection (one association allowed:
         * 4 x 1 + 4 threads; the per-host cap set above that): a further connection is closed at
         * once, never queued to wait for a thread.
         */
        ALL_ASSOCIATION_THREADS_HELD(Answer.CLOSED, port -> silentThenMore(port, 8),
                o -> o.withArtimTimeout(Duration.ofMinutes(5)).withMaxAssociations(1).withMaxAssociationsPerHost(100)),
        /** Sta6, a C-STORE data set nested deeper than the node's bound → C-STORE-RSP C000H (cannot understand). */
        DATA_SET_NESTED_TOO_DEEP(Answer.status(0xC000), port -> storeNested(port, HOSTILE_DEPTH)),
        /** Sta6, one level beyond the bound (far from any stack limit) → C000H all the same. */
        DATA_SET_NESTED_ONE_BEYOND_THE_BOUND(Answer.status(0xC000), port -> storeNested(port,
                DataSetDepth.MAX_NESTING_DEPTH + 1)),
        /** Sta6, nested exactly as deep as the bound → stored, Success. */
        DATA_SET_NESTED_TO_THE_BOUND(Answer.status(0x0000), port -> storeNested(port, DataSetDepth.MAX_NESTING_DEPTH)),
        /** Sta6, a command set nested beyond the bound but short → A-ABORT (service-user). */
        COMMAND_NESTED_BEYOND_THE_BOUND(Answer.abort(0, 0), port -> associated(port, ScriptedPeer.pData(1, true, true,
                implicitNested(DataSetDepth.MAX_NESTING_DEPTH + 1)))),
        /** Sta6, a command set nested without bound: not a DIMSE message the node can answer → A-ABORT (service-user). */
        COMMAND_NESTED_TOO_DEEP(Answer.abort(0, 0), port -> {
            byte[] command = implicitNested(HOSTILE_DEPTH);
            List<byte[]> pdus = new ArrayList<>();
            for (int off = 0; off < command.length; off += 16000) {
                int n = Math.min(16000, command.length - off);
                pdus.add(ScriptedPeer.pData(1, true, off + n == command.length, Arrays.copyOfRange(command, off, off + n)));
            }
            return associated(port, pdus.toArray(byte[][]::new));
        });

        final Answer expected;
        final Script script;
        final UnaryOperator<ListenerOptions> options;

        Case(Answer expected, Script script) {
            this(expected, script, UnaryOperator.identity());
        }

        Case(Answer expected, Script script, UnaryOperator<ListenerOptions> options) {
            this.expected = expected;
            this.script = script;
            this.options = options;
        }
    }

    @ParameterizedTest
    @EnumSource(Case.class)
    void theNodeAnswersAsPs38SaysKeepsItsHeapAndServesTheNextAssociation(Case c) throws Exception {
        ListenerOptions options = c.options.apply(ListenerOptions.defaults(AE, InetAddress.getLoopbackAddress(), 0,
                dir.resolve("incoming")).withMinFreeDiskBytes(0).withArtimTimeout(TEST_ARTIM)
                .withMaxAssociationsPerHost(PER_HOST));
        listener = new DicomListener(options, new AssociationPolicy(options), this::parseAndKeep);
        listener.addObserver(new AssociationListener() {
            @Override
            public void partialInstanceDiscarded(String callingAeTitle, String sopInstanceUid, String cause) {
                discarded.add(sopInstanceUid);
            }
        });
        listener.start();
        long before = heapAfterGc();
        resetPeaks();

        Answer answer = c.script.play(listener.port());

        assertThat(answer).as(c.name()).isEqualTo(c.expected);
        long grown = Math.max(heapAfterGc(), peakOfLargeObjectPools()) - before;
        assertThat(grown).as("heap growth of %s", c.name()).isLessThan(HEAP_BOUND);
        Eventually.await(Duration.ofSeconds(30), "no .part left behind and no association counted",
                () -> partFiles().isEmpty() && listener.activeAssociations() == 0, done -> done);
        if (CUT_OFF_MID_DATA_SET.contains(c)) {
            Eventually.await(Duration.ofSeconds(30), "the partial instance reported discarded", () -> discarded,
                    d -> d.contains(HALF_SENT_UID));
        } else {
            assertThat(discarded).isEmpty();
        }
        // Connections from the case may still be winding down; the next association is the proof.
        normalAssociationWorks();
    }

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.close();
        }
    }

    /** The store handler: parses the instance with PixelMed as the node's ingest does, then keeps its UID. */
    private DimseStatus parseAndKeep(ReceivedInstance instance) throws Exception {
        AttributeList list = new AttributeList();
        list.read(instance.file().toString());
        stored.add(list.get(TagFromName.SOPInstanceUID).getSingleStringValueOrEmptyString());
        Files.delete(instance.file());
        return DimseStatus.SUCCESS;
    }

    private void normalAssociationWorks() throws Exception {
        String uid = "1.2.826.0.1.3680043.10.1045." + System.nanoTime();
        Eventually.await(Duration.ofSeconds(30), "a normal C-ECHO and C-STORE association", () -> {
            try (ScriptedPeer peer = ScriptedPeer.connect(listener.port())) {
                peer.associate(AE, SCU);
                peer.send(ScriptedPeer.pData(1, true, true, ScriptedPeer.echoCommand()));
                int echo = peer.read().dimseStatus();
                peer.send(ScriptedPeer.pData(3, true, true, ScriptedPeer.storeCommand(uid)));
                for (byte[] pdu : ScriptedPeer.dataPdus(3, dataSet(uid), 16000)) {
                    peer.send(pdu);
                }
                int store = peer.read().dimseStatus();
                peer.send(ScriptedPeer.releaseRq());
                int release = peer.read().type();
                return echo == 0 && store == 0 && release == A_RELEASE_RP;
            }
        }, ok -> ok);
        assertThat(stored).contains(uid);
    }

    // ----- scripts -----

    static Answer first(int port, byte[]... pdus) throws Exception {
        try (ScriptedPeer peer = ScriptedPeer.connect(port)) {
            for (byte[] p : pdus) {
                peer.send(p);
            }
            return Answer.of(peer.read());
        }
    }

    static Answer associated(int port, byte[]... pdus) throws Exception {
        try (ScriptedPeer peer = ScriptedPeer.connect(port)) {
            peer.associate(AE, SCU);
            try {
                for (byte[] p : pdus) {
                    peer.send(p);
                }
            } catch (IOException closedUnderUs) {
                // the node answered and closed before everything was sent; its answer is still there
            }
            return Answer.of(peer.read());
        }
    }

    static Answer closedAfter(int port, byte[] bytes) throws Exception {
        try (ScriptedPeer peer = ScriptedPeer.connect(port)) {
            peer.send(bytes);
        }
        return Answer.CLOSED;
    }

    /**
     * Opens {@code held} silent connections, then three more, which must be closed by the node
     * (ARTIM is long in these cases, so only a limit can close them); then lets the silent ones go.
     */
    static Answer silentThenMore(int port, int held) throws Exception {
        List<ScriptedPeer> silent = new ArrayList<>();
        try {
            for (int i = 0; i < held; i++) {
                silent.add(ScriptedPeer.connect(port));
            }
            List<Answer> beyond = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                try (ScriptedPeer extra = ScriptedPeer.connect(port)) {
                    beyond.add(Answer.of(extra.read()));
                }
            }
            assertThat(beyond).containsOnly(Answer.CLOSED);
            return Answer.CLOSED;
        } finally {
            for (ScriptedPeer p : silent) {
                p.close();
            }
        }
    }

    static Answer storeNested(int port, int depth) throws Exception {
        try (ScriptedPeer peer = ScriptedPeer.connect(port)) {
            peer.associate(AE, SCU);
            peer.send(ScriptedPeer.pData(3, true, true, ScriptedPeer.storeCommand("1.2.826.0.1.3680043.10.1045.9")));
            for (byte[] pdu : ScriptedPeer.dataPdus(3, nestedDataSet(depth), 16000)) {
                peer.send(pdu);
            }
            Answer answer = Answer.of(peer.read());
            peer.send(ScriptedPeer.releaseRq());
            assertThat(peer.readUntilNotPData().type()).isEqualTo(A_RELEASE_RP);
            return answer;
        }
    }

    static Answer halfDataSetThen(int port, byte[] pdu) throws Exception {
        try (ScriptedPeer peer = ScriptedPeer.connect(port)) {
            sendHalfDataSet(peer);
            peer.send(pdu);
            return Answer.of(peer.read());
        }
    }

    static void sendHalfDataSet(ScriptedPeer peer) throws Exception {
        peer.associate(AE, SCU);
        String uid = HALF_SENT_UID;
        peer.send(ScriptedPeer.pData(3, true, true, ScriptedPeer.storeCommand(uid)));
        List<byte[]> pdus = ScriptedPeer.dataPdus(3, dataSet(uid), 64);
        for (byte[] pdu : pdus.subList(0, pdus.size() / 2)) {
            peer.send(pdu);
        }
    }

    static List<ScriptedPeer.Context> contexts() {
        return List.of(ScriptedPeer.Context.verification(1), ScriptedPeer.Context.ct(3));
    }

    static byte[] normalRq() {
        return ScriptedPeer.associateRq(AE, SCU, contexts(), 16384);
    }

    // ----- data sets -----

    /** A small CT-like data set in Explicit VR Little Endian. */
    static byte[] dataSet(String sopInstanceUid) throws Exception {
        AttributeList list = new AttributeList();
        put(list, new UniqueIdentifierAttribute(TagFromName.SOPClassUID), SOPClass.CTImageStorage);
        put(list, new UniqueIdentifierAttribute(TagFromName.SOPInstanceUID), sopInstanceUid);
        put(list, new CodeStringAttribute(TagFromName.Modality), "CT");
        put(list, new UniqueIdentifierAttribute(TagFromName.StudyInstanceUID), "1.2.826.0.1.3680043.10.1045.100");
        put(list, new UniqueIdentifierAttribute(TagFromName.SeriesInstanceUID), "1.2.826.0.1.3680043.10.1045.101");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DicomOutputStream out = new DicomOutputStream(bytes, null, TransferSyntax.ExplicitVRLittleEndian);
        list.write(out);
        out.close();
        return bytes.toByteArray();
    }

    private static void put(AttributeList list, com.pixelmed.dicom.Attribute a, String value) throws Exception {
        a.addValue(value);
        list.put(a);
    }

    /**
     * SOP Class and Instance UID, then Referenced Series Sequence (0008,1115) nested {@code depth}
     * levels deep, every sequence and item of undefined length (Explicit VR Little Endian).
     */
    static byte[] nestedDataSet(int depth) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] head = dataSet("1.2.826.0.1.3680043.10.1045.9");
        // Only the two UIDs (group 0008 elements 0016, 0018) precede (0008,1115) in tag order.
        out.writeBytes(Arrays.copyOf(head, uidsLength(head)));
        ByteBuffer open = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
        open.putShort((short) 0x0008).putShort((short) 0x1115).put((byte) 'S').put((byte) 'Q').putShort((short) 0)
                .putInt(-1).putShort((short) 0xFFFE).putShort((short) 0xE000).putInt(-1);
        ByteBuffer close = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        close.putShort((short) 0xFFFE).putShort((short) 0xE00D).putInt(0).putShort((short) 0xFFFE)
                .putShort((short) 0xE0DD).putInt(0);
        for (int i = 0; i < depth; i++) {
            out.writeBytes(open.array());
        }
        for (int i = 0; i < depth; i++) {
            out.writeBytes(close.array());
        }
        return out.toByteArray();
    }

    /** A command set (Implicit VR) that is only an unknown element of undefined length nested {@code depth} deep. */
    static byte[] implicitNested(int depth) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer open = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        open.putShort((short) 0x0000).putShort((short) 0x0777).putInt(-1).putShort((short) 0xFFFE)
                .putShort((short) 0xE000).putInt(-1);
        ByteBuffer close = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        close.putShort((short) 0xFFFE).putShort((short) 0xE00D).putInt(0).putShort((short) 0xFFFE)
                .putShort((short) 0xE0DD).putInt(0);
        for (int i = 0; i < depth; i++) {
            out.writeBytes(open.array());
        }
        for (int i = 0; i < depth; i++) {
            out.writeBytes(close.array());
        }
        return out.toByteArray();
    }

    /** Length of the leading (0008,0016) and (0008,0018) elements of an explicit VR data set. */
    private static int uidsLength(byte[] explicit) {
        ByteBuffer b = ByteBuffer.wrap(explicit).order(ByteOrder.LITTLE_ENDIAN);
        int pos = 0;
        for (int i = 0; i < 2; i++) {
            int length = b.getShort(pos + 6) & 0xffff;
            pos += 8 + length;
        }
        return pos;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    static int indexOf(byte[] bytes, byte value, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == value) {
                return i;
            }
        }
        throw new IllegalArgumentException("no " + value);
    }

    // ----- heap -----

    private static long heapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static void resetPeaks() {
        ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);
    }

    /**
     * The peak of the pools where large arrays go directly (G1 puts humongous objects in the old
     * generation), so a large allocation that was already collected still counts.
     */
    private static long peakOfLargeObjectPools() {
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && (pool.getName().contains("Old") || pool.getName().contains("Tenured"))) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        return peak;
    }

    private List<Path> partFiles() throws IOException {
        if (!Files.isDirectory(dir.resolve("incoming"))) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir.resolve("incoming"))) {
            return files.filter(p -> p.toString().endsWith(".part")).toList();
        }
    }
}
