package org.cttriage.testdata.arrays;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes NumPy {@code .npy} files (format version 1.0): a magic string, a little header
 * dictionary giving dtype, C order and shape, padded so data starts on a 64-byte
 * boundary, then the raw little-endian values. numpy.load reads them with no extra code.
 */
public final class NpyWriter {
    private NpyWriter() {
    }

    /** Writes int16 values with {@code shape} (C order, last axis fastest). */
    public static void writeInt16(Path file, short[] values, int... shape) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        b.asShortBuffer().put(values);
        write(file, "<i2", b.array(), values.length, shape);
    }

    /** Writes uint16 values (Java shorts read as unsigned) with {@code shape}. */
    public static void writeUint16(Path file, short[] values, int... shape) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        b.asShortBuffer().put(values);
        write(file, "<u2", b.array(), values.length, shape);
    }

    /** Writes float32 values with {@code shape}. */
    public static void writeFloat32(Path file, float[] values, int... shape) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        write(file, "<f4", b.array(), values.length, shape);
    }

    /** Writes uint8 values with {@code shape}. */
    public static void writeUint8(Path file, byte[] values, int... shape) throws IOException {
        write(file, "|u1", values, values.length, shape);
    }

    private static void write(Path file, String dtype, byte[] data, int count, int... shape) throws IOException {
        long product = 1;
        StringBuilder dims = new StringBuilder();
        for (int d : shape) {
            product *= d;
            dims.append(d).append(", ");
        }
        if (product != count) {
            throw new IllegalArgumentException("shape holds " + product + " values, array has " + count);
        }
        String shapeText = shape.length == 1 ? "(" + shape[0] + ",)" : "(" + dims.substring(0, dims.length() - 2) + ")";
        String dict = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
        int headerLength = 10 + dict.length() + 1;
        int padding = (64 - headerLength % 64) % 64;
        String header = dict + " ".repeat(padding) + "\n";
        ByteBuffer preamble = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        preamble.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
                .putShort((short) header.length());
        Path part = file.resolveSibling(file.getFileName() + ".part");
        try (OutputStream out = Files.newOutputStream(part)) {
            out.write(preamble.array());
            out.write(header.getBytes(StandardCharsets.US_ASCII));
            out.write(data);
        }
        Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
