package dev.mdx.testing;

import dev.mdx.io.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Four values of every safetensors dtype, written byte by byte (not through the engine, which cannot hold some of
 * them): each dtype's values include its extremes, so a narrowing or a sign error shows.
 */
public final class DTypeSamples {
    /** The shape every sample tensor is written with. */
    public static final long[] SHAPE = {2, 2};

    private DTypeSamples() {}

    /** The values stored for {@code dtype}, exactly (every one is representable in float64 and float32). */
    public static double[] values(DType dtype) {
        return switch (dtype) {
            case F64, F32, F16, BF16 -> new double[] {1.5, -2, 0.25, 3};
            case I64 -> new double[] {7, -2, 1L << 40, -(1L << 40)};
            case I32 -> new double[] {7, -2, 100_000, Integer.MIN_VALUE};
            case I16 -> new double[] {7, -2, Short.MAX_VALUE, Short.MIN_VALUE};
            case I8 -> new double[] {7, -2, Byte.MAX_VALUE, Byte.MIN_VALUE};
            case U8 -> new double[] {7, 0, 200, 255};
            case BOOL -> new double[] {1, 0, 1, 1};
        };
    }

    public static float[] floats(DType dtype) {
        double[] v = values(dtype);
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) v[i];
        }
        return out;
    }

    /** The little-endian bytes of {@link #values}. */
    public static byte[] bytes(DType dtype) {
        double[] v = values(dtype);
        ByteBuffer b = ByteBuffer.allocate(v.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : v) {
            switch (dtype) {
                case F64 -> b.putDouble(x);
                case F32 -> b.putFloat((float) x);
                case F16 -> b.putShort(half((float) x));
                case BF16 -> b.putShort((short) (Float.floatToIntBits((float) x) >>> 16));
                case I64 -> b.putLong((long) x);
                case I32 -> b.putInt((int) x);
                case I16 -> b.putShort((short) x);
                case I8, U8, BOOL -> b.put((byte) (int) x);
            }
        }
        return b.array();
    }

    /** Writes a safetensors file holding one tensor {@code name} of {@code dtype}; returns the file. */
    public static Path write(Path file, String name, DType dtype) {
        byte[] data = bytes(dtype);
        String header = "{\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + SHAPE[0] + "," + SHAPE[1]
                + "],\"data_offsets\":[0," + data.length + "]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json).put(data);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.write(file, b.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** IEEE half bits of the sample floats (all exact in half precision). */
    private static short half(float x) {
        if (x == 0) {
            return 0;
        }
        int bits = Float.floatToIntBits(x);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = ((bits >>> 23) & 0xff) - 127 + 15;
        int mantissa = (bits >>> 13) & 0x3ff;
        return (short) (sign | exponent << 10 | mantissa);
    }
}
