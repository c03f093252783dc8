package dev.mdx.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.mdx.train.Rng;
import org.junit.jupiter.api.Test;

class SharpnessTest {
    /** The Laplacian by shifted slices of an NDArray, its variance per channel, averaged: an independent reference. */
    private static double reference(float[] chw, int c, int h, int w) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(chw, new Shape(c, h, w));
            NDArray centre = x.get(new NDIndex(":, 1:-1, 1:-1"));
            NDArray lap = x.get(new NDIndex(":, :-2, 1:-1")).add(x.get(new NDIndex(":, 2:, 1:-1")))
                    .add(x.get(new NDIndex(":, 1:-1, :-2"))).add(x.get(new NDIndex(":, 1:-1, 2:")))
                    .sub(centre.mul(4f)).reshape(c, -1);
            NDArray mean = lap.mean(new int[] {1}, true);
            return lap.sub(mean).square().mean(new int[] {1}).mean().toFloatArray()[0];
        }
    }

    @Test
    void matchesTheReferenceAndFallsWithBlur() {
        Rng rng = new Rng(3);
        int c = 3;
        int h = 12;
        int w = 10;
        float[] img = new float[c * h * w];
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) Math.max(-1, Math.min(1, rng.nextGaussian() * 0.5));
        }
        double v = Sharpness.laplacianVariance(img, c, h, w);
        assertEquals(reference(img, c, h, w), v, 1e-4 * v);
        // a 3-tap horizontal box blur removes high frequencies
        float[] blurred = img.clone();
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 1; x < w - 1; x++) {
                    int i = ch * h * w + y * w + x;
                    blurred[i] = (img[i - 1] + img[i] + img[i + 1]) / 3f;
                }
            }
        }
        double b = Sharpness.laplacianVariance(blurred, c, h, w);
        assertTrue(b < 0.5 * v, "blur lowers it: " + v + " -> " + b);
        float[] flat = new float[c * h * w];
        java.util.Arrays.fill(flat, 0.3f);
        assertEquals(0.0, Sharpness.laplacianVariance(flat, c, h, w), 1e-12);
        assertEquals((v + b) / 2, Sharpness.mean(new float[][] {img, blurred}, c, h, w), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> Sharpness.laplacianVariance(img, c, h, w + 1));
    }
}
