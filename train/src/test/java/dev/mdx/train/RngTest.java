package dev.mdx.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class RngTest {
    @Test
    void restoredStateContinuesTheSameStream() {
        Rng a = new Rng(77);
        a.gaussians(11);
        long saved = a.state();
        float[] next = a.gaussians(9);
        long after = a.nextLong();
        Rng b = Rng.restore(saved);
        assertArrayEquals(next, b.gaussians(9), 0f);
        assertEquals(after, b.nextLong());
    }

    @Test
    void knownSplitMix64Values() {
        // First outputs of SplitMix64 seeded with 0 (the reference C implementation by Vigna).
        Rng r = new Rng(0);
        assertEquals(0xe220a8397b1dcdafL, r.nextLong());
        assertEquals(0x6e789e6aa1b965f4L, r.nextLong());
        assertEquals(0x06c45d188009454fL, r.nextLong());
    }

    @Test
    void distributionsLookRight() {
        Rng r = new Rng(5);
        float[] g = r.gaussians(200_001);
        double mean = 0;
        double sq = 0;
        for (float v : g) {
            mean += v;
            sq += v * v;
        }
        mean /= g.length;
        double var = sq / g.length - mean * mean;
        assertEquals(0, mean, 0.01);
        assertEquals(1, var, 0.01);
        int[] counts = new int[7];
        for (int i = 0; i < 70_000; i++) {
            counts[r.nextInt(7)]++;
        }
        for (int c : counts) {
            assertEquals(10_000, c, 400);
        }
        for (int i = 0; i < 1000; i++) {
            double u = r.nextDouble();
            float f = r.nextFloat();
            assertTrue(u >= 0 && u < 1 && f >= 0 && f < 1);
        }
    }

    @Test
    void arraysAndDerivedStreams() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray noise = new Rng(3).randn(m, new Shape(2, 3, 5));
            assertEquals(new Shape(2, 3, 5), noise.getShape());
            assertArrayEquals(new Rng(3).gaussians(30), noise.toFloatArray(), 0f);
        }
        assertEquals(Rng.derived(1, 2, 3).state(), Rng.derived(1, 2, 3).state());
        assertNotEquals(Rng.derived(1, 2, 3).state(), Rng.derived(1, 2, 4).state());
        assertNotEquals(Rng.derived(1, 2, 3).state(), Rng.derived(1, 3, 3).state());
        Rng parent = new Rng(9);
        long before = parent.state();
        Rng child = parent.fork();
        assertNotEquals(before, parent.state());
        assertNotEquals(child.nextLong(), parent.nextLong());
    }
}
