package dev.mdx.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class PngWriterTest {
    @Test
    void decodesToTheSamePixelsAndCarriesTheParametersText() throws Exception {
        int w = 5, h = 3;
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) (i * 17);
        }
        byte[] png = PngWriter.encode(rgb, w, h, Map.of("parameters", "a red apple\nSteps: 8, Seed: 42"));
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(w, img.getWidth());
        assertEquals(h, img.getHeight());
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = (y * w + x) * 3;
                int expected = ((rgb[p] & 0xff) << 16) | ((rgb[p + 1] & 0xff) << 8) | (rgb[p + 2] & 0xff);
                assertEquals(expected, img.getRGB(x, y) & 0xffffff);
            }
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(png))) {
            ImageReader reader = ImageIO.getImageReadersByFormatName("png").next();
            reader.setInput(in);
            IIOMetadata meta = reader.getImageMetadata(0);
            Element root = (Element) meta.getAsTree("javax_imageio_png_1.0");
            NodeList entries = root.getElementsByTagName("tEXtEntry");
            assertEquals(1, entries.getLength());
            Element e = (Element) entries.item(0);
            assertEquals("parameters", e.getAttribute("keyword"));
            assertEquals("a red apple\nSteps: 8, Seed: 42", e.getAttribute("value"));
        }
    }

    @Test
    void textOutsideLatin1GoesIntoAnInternationalChunk() throws Exception {
        String prompt = "猫と桜, café ☕";
        byte[] png = PngWriter.encode(new byte[3], 1, 1, Map.of("parameters", prompt));
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(png))) {
            ImageReader reader = ImageIO.getImageReadersByFormatName("png").next();
            reader.setInput(in);
            Element root = (Element) reader.getImageMetadata(0).getAsTree("javax_imageio_png_1.0");
            assertEquals(0, root.getElementsByTagName("tEXtEntry").getLength());
            NodeList entries = root.getElementsByTagName("iTXtEntry");
            assertEquals(1, entries.getLength());
            Element e = (Element) entries.item(0);
            assertEquals("parameters", e.getAttribute("keyword"));
            assertEquals(prompt, e.getAttribute("text"));
        }
    }

    /**
     * PNG text (tEXt and iTXt alike) may not hold a NUL: it separates the keyword from the text. A NUL in a value
     * is written as U+FFFD, in an iTXt chunk, and both javax.imageio and a chunk-by-chunk check read a valid file.
     */
    @Test
    void aNulInTheTextBecomesTheReplacementCharacter() throws Exception {
        Map<String, String> text = new java.util.LinkedHashMap<>();
        text.put("parameters", "a\u0000b");
        text.put("comment", "\u732b\u0000");
        byte[] png = PngWriter.encode(new byte[3], 1, 1, text);
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(png))) {
            ImageReader reader = ImageIO.getImageReadersByFormatName("png").next();
            reader.setInput(in);
            Element root = (Element) reader.getImageMetadata(0).getAsTree("javax_imageio_png_1.0");
            NodeList entries = root.getElementsByTagName("iTXtEntry");
            assertEquals(2, entries.getLength());
            assertEquals("a\ufffdb", ((Element) entries.item(0)).getAttribute("text"));
            assertEquals("\u732b\ufffd", ((Element) entries.item(1)).getAttribute("text"));
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(png, 8, png.length - 8);
        int textChunks = 0;
        while (b.hasRemaining()) {
            byte[] data = new byte[b.getInt()];
            String type = new String(new byte[] {b.get(), b.get(), b.get(), b.get()}, StandardCharsets.US_ASCII);
            b.get(data);
            b.getInt();
            if (type.equals("tEXt") || type.equals("iTXt")) {
                textChunks++;
                int at = indexOfZero(data, 0) + 1; // after the keyword
                if (type.equals("iTXt")) {
                    at = indexOfZero(data, at + 2) + 1; // compression flag and method, then the language tag
                    at = indexOfZero(data, at) + 1; // the translated keyword
                }
                assertEquals(-1, indexOfZero(data, at), type + " text holds a NUL");
            }
        }
        assertEquals(2, textChunks);
    }

    @Test
    void keywordsMustBePrintableLatin1() {
        for (String bad : new String[] {"", "a\u0000b", "tab\tkey", " lead", "x".repeat(80), "\u732b"}) {
            assertThrows(IllegalArgumentException.class, () -> PngWriter.encode(new byte[3], 1, 1, Map.of(bad, "v")),
                    bad);
        }
    }

    private static int indexOfZero(byte[] data, int from) {
        for (int i = from; i < data.length; i++) {
            if (data[i] == 0) {
                return i;
            }
        }
        return -1;
    }
}
