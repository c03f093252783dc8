package dev.mdx.io;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

/**
 * Writes 8-bit RGB PNGs with text chunks (A1111 style {@code parameters}), so an image carries what made it: tEXt
 * when the value is Latin-1 (the PNG text encoding), otherwise an uncompressed UTF-8 iTXt chunk, as PIL does, so a
 * prompt in any script survives. A NUL, which no PNG text may hold, is written as U+FFFD. Written by hand because
 * ImageIO's text metadata API is clumsy and this is short.
 */
public final class PngWriter {
    private static final byte[] SIGNATURE = {(byte) 137, 80, 78, 71, 13, 10, 26, 10};

    private PngWriter() {}

    /** rgb: row-major H x W x 3 bytes. Text keys must be PNG keywords (printable Latin-1, 1-79); values any text. */
    public static byte[] encode(byte[] rgb, int width, int height, Map<String, String> text) {
        if (rgb.length != width * height * 3) {
            throw new IllegalArgumentException("expected " + width * height * 3 + " bytes, got " + rgb.length);
        }
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(SIGNATURE);
            ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
            DataOutputStream h = new DataOutputStream(ihdr);
            h.writeInt(width);
            h.writeInt(height);
            h.write(new byte[] {8, 2, 0, 0, 0}); // 8-bit, truecolour, deflate, adaptive filter, no interlace
            chunk(out, "IHDR", ihdr.toByteArray());
            for (Map.Entry<String, String> e : text.entrySet()) {
                textChunk(out, e.getKey(), e.getValue());
            }
            ByteArrayOutputStream idat = new ByteArrayOutputStream();
            try (DeflaterOutputStream z = new DeflaterOutputStream(idat, new Deflater(6))) {
                for (int y = 0; y < height; y++) {
                    z.write(0); // filter type None per scanline
                    z.write(rgb, y * width * 3, width * 3);
                }
            }
            chunk(out, "IDAT", idat.toByteArray());
            chunk(out, "IEND", new byte[0]);
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException("in-memory PNG encoding failed", e);
        }
    }

    public static void write(Path file, byte[] rgb, int width, int height, Map<String, String> text) {
        AtomicFiles.writeBytes(file, encode(rgb, width, height, text));
    }

    private static void textChunk(ByteArrayOutputStream out, String keyword, String value) throws IOException {
        if (!validKeyword(keyword)) {
            throw new IllegalArgumentException("PNG text keyword must be 1-79 printable Latin-1 characters without"
                    + " leading, trailing or double spaces: '" + keyword + "'");
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(keyword.getBytes(StandardCharsets.ISO_8859_1));
        body.write(0);
        // a NUL would end the text early (PNG forbids it in tEXt and iTXt text): U+FFFD marks what could not be kept
        String text = value.replace('\u0000', '\ufffd');
        if (StandardCharsets.ISO_8859_1.newEncoder().canEncode(text)) {
            body.write(text.getBytes(StandardCharsets.ISO_8859_1));
            chunk(out, "tEXt", body.toByteArray());
            return;
        }
        // iTXt: compression flag 0, method 0, empty language tag and translated keyword, then UTF-8 text
        body.write(new byte[] {0, 0, 0, 0});
        body.write(text.getBytes(StandardCharsets.UTF_8));
        chunk(out, "iTXt", body.toByteArray());
    }

    /** PNG keywords: 1-79 characters of Latin-1 32-126 and 161-255, no leading, trailing or consecutive spaces. */
    private static boolean validKeyword(String k) {
        if (k.isEmpty() || k.length() > 79 || k.startsWith(" ") || k.endsWith(" ") || k.contains("  ")) {
            return false;
        }
        return k.chars().allMatch(c -> (c >= 32 && c <= 126) || (c >= 161 && c <= 255));
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        d.writeInt(data.length);
        d.write(t);
        d.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        d.writeInt((int) crc.getValue());
    }
}
