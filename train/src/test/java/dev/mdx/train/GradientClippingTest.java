package dev.mdx.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import dev.mdx.MdxException;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradientClippingTest {
    @Test
    void scalesAllGradientsByTheGlobalNorm() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray g1 = m.create(new float[] {3, 0, -1}, new Shape(3));
            NDArray g2 = m.create(new float[] {1, 2, 1, -1, 0, 2}, new Shape(2, 3));
            // |g|^2 = 9 + 0 + 1 + 1 + 4 + 1 + 1 + 0 + 4 = 21
            double norm = GradientClipping.clipByGlobalNorm(List.of(g1, g2), 2.0);
            assertEquals(Math.sqrt(21), norm, 1e-6, "norm before clipping is returned");
            double c = 2.0 / (Math.sqrt(21) + 1e-6);
            assertArrayEquals(new float[] {(float) (3 * c), 0, (float) -c}, g1.toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {(float) c, (float) (2 * c), (float) c, (float) -c, 0, (float) (2 * c)},
                    g2.toFloatArray(), 1e-6f);
            assertEquals(2.0, GradientClipping.globalNorm(List.of(g1, g2)), 1e-5, "clipped to max norm");
        }
    }

    @Test
    void leavesSmallGradientsAloneAndZeroMeansMeasureOnly() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray g = m.create(new float[] {3, 4});
            assertEquals(5.0, GradientClipping.clipByGlobalNorm(List.of(g), 10.0), 1e-6);
            assertArrayEquals(new float[] {3, 4}, g.toFloatArray(), 0f);
            assertEquals(5.0, GradientClipping.clipByGlobalNorm(List.of(g), 0.0), 1e-6);
            assertArrayEquals(new float[] {3, 4}, g.toFloatArray(), 0f);
            assertEquals(0.0, GradientClipping.clipByGlobalNorm(List.of(m.zeros(new Shape(3))), 1.0));
        }
    }

    @Test
    void nonFiniteGradientsStopTraining() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray g = m.create(new float[] {Float.NaN, 1});
            MdxException e = assertThrows(MdxException.class,
                    () -> GradientClipping.clipByGlobalNorm(List.of(g), 1.0));
            assertEquals(true, e.getMessage().contains("diverged"));
        }
    }
}
