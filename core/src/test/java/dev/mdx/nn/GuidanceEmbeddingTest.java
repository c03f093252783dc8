package dev.mdx.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** LCM's guidance-scale embedding against a plain loop over diffusers' formula, float32 as torch computes it. */
class GuidanceEmbeddingTest {
    /** diffusers' get_guidance_scale_embedding, one element at a time, in torch's float32 operation order. */
    private static float[][] reference(float[] w, int dim) {
        int half = dim / 2;
        float step = (float) Math.log(10000.0) / (half - 1);
        float[][] out = new float[w.length][dim];
        for (int b = 0; b < w.length; b++) {
            float scaled = w[b] * 1000f;
            for (int i = 0; i < half; i++) {
                float arg = scaled * (float) Math.exp(i * -step);
                out[b][i] = (float) Math.sin(arg);
                out[b][half + i] = (float) Math.cos(arg);
            }
        }
        return out;
    }

    @Test
    void matchesTheLoopForEvenOddAndSmallWidths() {
        float[] w = {0f, 6.5f, 1f, -1f, 13f, 0.25f};
        try (NDManager m = NDManager.newBaseManager()) {
            for (int dim : new int[] {256, 7, 4, 512}) {
                NDArray emb = new GuidanceEmbedding(dim).of(w, m);
                assertEquals(new Shape(w.length, dim), emb.getShape());
                float[] got = emb.toFloatArray();
                float[][] want = reference(w, dim);
                double worst = 0;
                for (int b = 0; b < w.length; b++) {
                    for (int j = 0; j < dim; j++) {
                        // one float32 ulp of exp(.) moves the argument by ~6e-8 of its size (up to 13000 here)
                        double tolerance = 1e-6 + 2.4e-7 * Math.abs(w[b] * 1000);
                        double err = Math.abs(got[b * dim + j] - want[b][j]);
                        worst = Math.max(worst, err);
                        assertTrue(err <= tolerance, "dim " + dim + ", w " + w[b] + ", column " + j + ": "
                                + got[b * dim + j] + " vs " + want[b][j]);
                    }
                }
                System.out.printf("guidance embedding dim %d: max |error| vs loop %.3g%n", dim, worst);
            }
        }
    }

    @Test
    void knownValuesAndTheScaleConvention() {
        try (NDManager m = NDManager.newBaseManager()) {
            int dim = 9;
            float[] zero = new GuidanceEmbedding(dim).of(new float[] {0f}, m).toFloatArray();
            // w = 0: sin 0 = 0 for the first half, cos 0 = 1 for the second, the odd column padded with 0
            assertArrayEquals(new float[] {0, 0, 0, 0, 1, 1, 1, 1, 0}, zero, 0f);
            // frequency 0 is exp(0) = 1: column 0 is sin(1000 w), column half is cos(1000 w)
            float[] one = new GuidanceEmbedding(dim).of(new float[] {0.002f}, m).toFloatArray();
            assertEquals(Math.sin(2.0), one[0], 1e-6);
            assertEquals(Math.cos(2.0), one[4], 1e-6);
            // the last frequency is exp(-ln 10000) = 1e-4
            assertEquals(Math.sin(2.0 * 1e-4), one[3], 1e-7);
            // guidance scale s embeds w = s - 1, as diffusers' LCM pipeline
            assertArrayEquals(new GuidanceEmbedding(dim).of(new float[] {6.5f, 0f}, m).toFloatArray(),
                    new GuidanceEmbedding(dim).ofScales(new double[] {7.5, 1.0}, m).toFloatArray(), 0f);
            // unguided = scale 1 for every example of a batch
            assertArrayEquals(new GuidanceEmbedding(dim).ofScales(new double[] {1.0, 1.0, 1.0}, m).toFloatArray(),
                    new GuidanceEmbedding(dim).unguided(3, m).toFloatArray(), 0f);
        }
    }

    @Test
    void widthsBelowFourAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new GuidanceEmbedding(3));
        assertTrue(e.getMessage().contains("at least 4"), e.getMessage());
    }
}
