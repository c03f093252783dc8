package dev.mdx.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Seeded noise: deterministic per seed, different across seeds, standard normal. */
class SeededNoiseSourceTest {
    private static final Shape SHAPE = new Shape(2, 4, 32, 32);

    @Test
    void sameSeedSameSequence() {
        try (NDManager m = NDManager.newBaseManager()) {
            NoiseSource a = NoiseSource.seeded(42);
            NoiseSource b = NoiseSource.seeded(42);
            for (int i = 0; i < 3; i++) {
                NDArray x = a.gaussian(m, SHAPE);
                assertEquals(SHAPE, x.getShape());
                assertEquals(DataType.FLOAT32, x.getDataType());
                assertTrue(x.getManager() == m, "created in the given manager");
                assertArrayEquals(x.toFloatArray(), b.gaussian(m, SHAPE).toFloatArray(), "draw " + i);
            }
            assertFalse(Arrays.equals(NoiseSource.seeded(42).gaussian(m, SHAPE).toFloatArray(),
                    NoiseSource.seeded(43).gaussian(m, SHAPE).toFloatArray()), "different seeds");
            NoiseSource c = NoiseSource.seeded(42);
            float[] first = c.gaussian(m, SHAPE).toFloatArray();
            assertFalse(Arrays.equals(first, c.gaussian(m, SHAPE).toFloatArray()), "draws advance");
        }
    }

    @Test
    void valuesAreStandardNormal() {
        SeededNoiseSource s = new SeededNoiseSource(7);
        int n = 200_000;
        double sum = 0;
        double sumSq = 0;
        int beyond2 = 0;
        for (int i = 0; i < n; i++) {
            double v = s.nextGaussian();
            sum += v;
            sumSq += v * v;
            beyond2 += Math.abs(v) > 2 ? 1 : 0;
        }
        double mean = sum / n;
        double var = sumSq / n - mean * mean;
        assertEquals(0, mean, 0.01, "mean");
        assertEquals(1, var, 0.01, "variance");
        // P(|z| > 2) = 0.0455 for a standard normal
        assertEquals(0.0455, beyond2 / (double) n, 0.003, "tail mass");
    }
}
