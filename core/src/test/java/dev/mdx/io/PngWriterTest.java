package dev.mdx.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
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
}
