package dev.mdx.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Gradients through scalar multiply/divide survive garbage collection between forward and backward. DJL's own
 * mul(Number) fails this (its scalar's buffer is freed while autograd still holds it): about 40% of rounds.
 */
class OpsScalarGradientTest {
    private static final int ROUNDS = 20;

    @Test
    void mulScalarGradientSurvivesGc() {
        assertGradient(x -> Ops.mulScalar(x, 3), 3f);
    }

    @Test
    void divScalarGradientSurvivesGc() {
        assertGradient(x -> Ops.divScalar(x, 4), 0.25f);
    }

    private static void assertGradient(UnaryOperator<NDArray> op, float expected) {
        for (int round = 0; round < ROUNDS; round++) {
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray x = m.ones(new Shape(4));
                x.setRequiresGradient(true);
                try (GradientCollector c = Engine.getInstance().newGradientCollector()) {
                    NDArray y = op.apply(x);
                    churnDirectMemory();
                    c.backward(y.sum());
                    float[] g = x.getGradient().toFloatArray();
                    for (float v : g) {
                        assertEquals(expected, v, 0f, "gradient in round " + round);
                    }
                }
            }
        }
    }

    /** Frees unreachable direct buffers and reuses their memory with NaNs. */
    private static void churnDirectMemory() {
        System.gc();
        List<ByteBuffer> junk = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(4);
            b.putFloat(0, Float.NaN);
            junk.add(b);
        }
        junk.clear();
    }
}
