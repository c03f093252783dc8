package dev.mdx.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mdx.pipeline.RgbImage;
import org.junit.jupiter.api.Test;

/** The silhouette of hand-made images: a ring (its hole stays inside) on a dark and on a white background. */
class SilhouetteTest {
    @Test
    void aRingsSilhouetteIsItsFilledDiscOnAnyPlainBackground() {
        for (int background : new int[] {0, 255}) {
            int size = 24;
            byte[] rgb = new byte[size * size * 3];
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    double r = Math.hypot(x - 11.5, y - 11.5);
                    boolean ring = r <= 8 && r >= 4;
                    int i = 3 * (y * size + x);
                    // the ring is red; its hole has the background's colour but is enclosed
                    rgb[i] = (byte) (ring ? 200 : background);
                    rgb[i + 1] = (byte) (ring ? 30 : background);
                    rgb[i + 2] = (byte) (ring ? 30 : background);
                }
            }
            var mask = Silhouette.DEFAULT.of(new RgbImage(size, size, rgb));
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    boolean inside = Math.hypot(x - 11.5, y - 11.5) <= 8;
                    assertEquals(inside ? 255 : 0, mask.at(x, y), "pixel " + x + "," + y + " on " + background);
                }
            }
        }
    }
}
