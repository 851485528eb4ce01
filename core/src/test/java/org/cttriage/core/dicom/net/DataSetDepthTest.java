package org.cttriage.core.dicom.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The recursion-free nesting walk that runs before PixelMed's recursive parser. */
class DataSetDepthTest {
    private static final int LIMIT = DataSetDepth.MAX_NESTING_DEPTH;

    @TempDir
    Path dir;

    @Test
    void undefinedLengthNestingIsCountedToTheLimitAndOneBeyond() throws Exception {
        assertThat(DataSetDepth.exceeds(in(MisbehavingPeerTest.nestedDataSet(LIMIT)), false, LIMIT)).isFalse();
        assertThat(DataSetDepth.exceeds(in(MisbehavingPeerTest.nestedDataSet(LIMIT + 1)), false, LIMIT)).isTrue();
    }

    @Test
    void definedLengthSequencesCountAndCloseWhereTheirLengthEnds() throws Exception {
        // Three sibling sequences nested 20 deep each: 20, not 60.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 3; i++) {
            out.writeBytes(definedNested(20));
        }
        assertThat(DataSetDepth.exceeds(in(out.toByteArray()), false, LIMIT)).isFalse();
        assertThat(DataSetDepth.exceeds(in(definedNested(LIMIT + 1)), false, LIMIT)).isTrue();
    }

    @Test
    void encapsulatedPixelDataFragmentsAreNotNesting() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(12 + 3 * (8 + 4) + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) 0x7FE0).putShort((short) 0x0010).put((byte) 'O').put((byte) 'B').putShort((short) 0).putInt(-1);
        for (int i = 0; i < 3; i++) {
            b.putShort((short) 0xFFFE).putShort((short) 0xE000).putInt(4).putInt(0x01020304);
        }
        b.putShort((short) 0xFFFE).putShort((short) 0xE0DD).putInt(0);
        assertThat(DataSetDepth.exceeds(in(b.array()), false, 0)).isFalse();
    }

    @Test
    void implicitVrUnknownElementsOfUndefinedLengthCountAsSequences() throws Exception {
        assertThat(DataSetDepth.exceeds(in(MisbehavingPeerTest.implicitNested(LIMIT)), true, LIMIT)).isFalse();
        assertThat(DataSetDepth.exceeds(in(MisbehavingPeerTest.implicitNested(LIMIT + 1)), true, LIMIT)).isTrue();
    }

    @Test
    void aFileIsWalkedFromTheDataSetOffsetAndTruncationIsLeftToTheParser() throws Exception {
        byte[] nested = MisbehavingPeerTest.nestedDataSet(LIMIT + 1);
        Path file = dir.resolve("x.part");
        Files.write(file, MisbehavingPeerTest.concat(new byte[] {9, 9, 9}, nested));
        assertThat(DataSetDepth.exceeds(file, 3, false, LIMIT)).isTrue();
        Files.write(file, java.util.Arrays.copyOf(MisbehavingPeerTest.dataSet("1.2.3"), 30));
        assertThat(DataSetDepth.exceeds(file, 0, false, LIMIT)).isFalse();
    }

    /** Referenced Series Sequence nested {@code depth} deep, every sequence and item of defined length. */
    private static byte[] definedNested(int depth) {
        byte[] inner = new byte[0];
        for (int i = 0; i < depth; i++) {
            ByteBuffer b = ByteBuffer.allocate(12 + 8 + inner.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putShort((short) 0x0008).putShort((short) 0x1115).put((byte) 'S').put((byte) 'Q').putShort((short) 0)
                    .putInt(8 + inner.length).putShort((short) 0xFFFE).putShort((short) 0xE000).putInt(inner.length)
                    .put(inner);
            inner = b.array();
        }
        return inner;
    }

    private static ByteArrayInputStream in(byte[] bytes) {
        return new ByteArrayInputStream(bytes);
    }
}
