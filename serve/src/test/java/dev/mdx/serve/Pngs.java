package dev.mdx.serve;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.imageio.ImageIO;

/** Reading the PNGs the server returns: pixels through javax.imageio, text chunks by walking the chunks. */
final class Pngs {
    private Pngs() {}

    static byte[] decode(String base64) {
        return Base64.getDecoder().decode(base64);
    }

    static BufferedImage image(byte[] png) {
        try {
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
            assertNotNull(image, "not a PNG javax.imageio reads");
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The value of a tEXt or iTXt chunk, or null. */
    static String text(byte[] png, String keyword) {
        ByteBuffer b = ByteBuffer.wrap(png);
        b.position(8);
        while (b.remaining() >= 12) {
            int length = b.getInt();
            byte[] type = new byte[4];
            b.get(type);
            byte[] data = new byte[length];
            b.get(data);
            b.getInt(); // CRC
            String t = new String(type, StandardCharsets.US_ASCII);
            int nul = indexOf(data, 0);
            if ((t.equals("tEXt") || t.equals("iTXt")) && nul > 0
                    && new String(data, 0, nul, StandardCharsets.ISO_8859_1).equals(keyword)) {
                if (t.equals("tEXt")) {
                    return new String(data, nul + 1, data.length - nul - 1, StandardCharsets.ISO_8859_1);
                }
                // iTXt: compression flag, method, language tag\0, translated keyword\0, text
                int lang = indexOf(data, nul + 3);
                int translated = indexOf(data, lang + 1);
                return new String(data, translated + 1, data.length - translated - 1, StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private static int indexOf(byte[] data, int from) {
        for (int i = from; i < data.length; i++) {
            if (data[i] == 0) {
                return i;
            }
        }
        return -1;
    }
}
