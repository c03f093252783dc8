package dev.mdx.train.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * An IDX file (the (Fashion-)MNIST format), plain or gzipped (detected by its magic bytes): two zero bytes, a
 * type byte (0x08 = unsigned byte, the only type these data sets use), the number of dimensions, each dimension as
 * a big-endian int32, then the data in row-major order.
 */
public record IdxFile(int[] dims, byte[] data) {
    static final int UNSIGNED_BYTE = 0x08;

    public static IdxFile read(Path file) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            boolean gzip = b0 == 0x1f && b1 == 0x8b;
            try (DataInputStream in = new DataInputStream(gzip ? new GZIPInputStream(raw) : raw)) {
                return read(file.toString(), in);
            }
        } catch (NoSuchFileException e) {
            throw new DatasetException(file + ": file not found");
        } catch (EOFException e) {
            throw new DatasetException(file + ": truncated IDX file", e);
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static IdxFile read(String source, DataInputStream in) throws IOException {
        int zero = in.readUnsignedShort();
        int type = in.readUnsignedByte();
        int rank = in.readUnsignedByte();
        if (zero != 0 || rank == 0) {
            throw new DatasetException(source + ": not an IDX file (bad magic)");
        }
        if (type != UNSIGNED_BYTE) {
            throw new DatasetException(source + ": IDX element type 0x" + Integer.toHexString(type)
                    + " is not supported (only unsigned bytes, 0x08)");
        }
        int[] dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = in.readInt();
            if (dims[i] < 0) {
                throw new DatasetException(source + ": negative dimension " + dims[i]);
            }
            count *= dims[i];
        }
        if (count > Integer.MAX_VALUE - 8) {
            throw new DatasetException(source + ": " + count + " elements is too large");
        }
        byte[] data = new byte[(int) count];
        in.readFully(data);
        if (in.read() != -1) {
            throw new DatasetException(source + ": extra bytes after " + count + " elements of shape " + Arrays.toString(dims));
        }
        return new IdxFile(dims, data);
    }

    /** Writes a plain (not gzipped) unsigned-byte IDX file; used to make fixtures. */
    public static byte[] encode(int[] dims, byte[] data) {
        byte[] out = new byte[4 + 4 * dims.length + data.length];
        out[2] = UNSIGNED_BYTE;
        out[3] = (byte) dims.length;
        for (int i = 0; i < dims.length; i++) {
            int d = dims[i];
            int o = 4 + 4 * i;
            out[o] = (byte) (d >>> 24);
            out[o + 1] = (byte) (d >>> 16);
            out[o + 2] = (byte) (d >>> 8);
            out[o + 3] = (byte) d;
        }
        System.arraycopy(data, 0, out, 4 + 4 * dims.length, data.length);
        return out;
    }
}
