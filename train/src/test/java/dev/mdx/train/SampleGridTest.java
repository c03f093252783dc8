package dev.mdx.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleGridTest {
    @TempDir
    Path tmp;

    /** Image i has pixel (x, y) = (10 i + x, 10 i + y, i). */
    private static List<byte[]> images(int n, int w, int h) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] img = new byte[w * h * 3];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int o = (y * w + x) * 3;
                    img[o] = (byte) (10 * i + x);
                    img[o + 1] = (byte) (10 * i + y);
                    img[o + 2] = (byte) i;
                }
            }
            out.add(img);
        }
        return out;
    }

    @Test
    void tilesRowByRowWithPaddingAndWritesAPng() throws Exception {
        int w = 3;
        int h = 2;
        int pad = 1;
        List<byte[]> imgs = images(5, w, h);
        SampleGrid.Size size = SampleGrid.write(tmp.resolve("grid.png"), imgs, w, h, 3, pad, Map.of("step", "7"));
        assertEquals(new SampleGrid.Size(3 * w + 2 * pad, 2 * h + pad), size);
        BufferedImage png = ImageIO.read(tmp.resolve("grid.png").toFile());
        assertEquals(size.width(), png.getWidth());
        assertEquals(size.height(), png.getHeight());
        for (int gy = 0; gy < size.height(); gy++) {
            for (int gx = 0; gx < size.width(); gx++) {
                int col = gx / (w + pad);
                int row = gy / (h + pad);
                int x = gx % (w + pad);
                int y = gy % (h + pad);
                int i = row * 3 + col;
                int expected = x >= w || y >= h || i >= imgs.size() ? 0
                        : ((10 * i + x) << 16) | ((10 * i + y) << 8) | i;
                assertEquals(expected, png.getRGB(gx, gy) & 0xffffff, "pixel " + gx + "," + gy);
            }
        }
    }

    @Test
    void rejectsImagesOfAnotherSize() {
        List<byte[]> imgs = images(2, 3, 2);
        imgs.set(1, new byte[5]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SampleGrid.tile(imgs, 3, 2, 2, 0));
        assertEquals("image 1 has 5 bytes; a 3x2 RGB image has 18", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SampleGrid.write(tmp.resolve("x.png"), List.of(), 3, 2,
                2, 0, Map.of()));
    }
}
