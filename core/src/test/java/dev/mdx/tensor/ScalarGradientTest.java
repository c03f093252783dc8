package dev.mdx.tensor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Regression test: a scalar factor that autograd saves for the backward pass must not live in a Java buffer that
 * the garbage collector can free before the backward pass (DJL's {@code mul(Number)} does exactly that). Between
 * forward and backward the test runs the collector and refills small direct buffers with NaN, which is what turned
 * contrastive training's gradients into NaN at random.
 */
class ScalarGradientTest {
    /** Gradient of sum(f(x)) with collector pressure between forward and backward. */
    private static float[] gradient(NDManager m, float[] data, UnaryOperator<NDArray> f, boolean pressure) {
        try (NDManager scope = m.newSubManager()) {
            NDArray x = scope.create(data, new Shape(2, 3, 4));
            x.setRequiresGradient(true);
            List<ByteBuffer> junk = new ArrayList<>();
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = f.apply(x).sum();
                if (pressure) {
                    for (int round = 0; round < 30; round++) {
                        System.gc();
                        for (int i = 0; i < 2000; i++) {
                            junk.add(ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder()).putFloat(0, Float.NaN));
                        }
                    }
                }
                gc.backward(y);
            }
            return x.getGradient().toType(DataType.FLOAT32, true).toFloatArray();
        }
    }

    private static void assertSameGradientUnderPressure(String what, UnaryOperator<NDArray> f) {
        float[] data = new float[24];
        java.util.Random r = new java.util.Random(4);
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) r.nextGaussian();
        }
        try (NDManager m = NDManager.newBaseManager()) {
            float[] calm = gradient(m, data, f, false);
            float[] stressed = gradient(m, data, f, true);
            double max = 0;
            for (int i = 0; i < calm.length; i++) {
                max = Float.isFinite(stressed[i]) ? Math.max(max, Math.abs(calm[i] - stressed[i])) : Double.NaN;
                assertTrue(Float.isFinite(stressed[i]), what + ": gradient " + i + " is " + stressed[i]);
            }
            System.out.printf("%s gradient under GC pressure: max abs difference %.3e%n", what, max);
            assertTrue(max == 0, what + ": gradients differ by " + max);
        }
    }

    @Test
    void scaleKeepsItsFactorAlive() {
        assertSameGradientUnderPressure("scale", x -> Ops.mulScalar(x, 1.702).square());
    }

    @Test
    void quickGeluAndAttentionKeepTheirFactorsAlive() {
        assertSameGradientUnderPressure("quickGelu", Ops::quickGelu);
        assertSameGradientUnderPressure("attention", x -> {
            NDArray q = x.reshape(2, 3, 4);
            return Ops.attention(q, q.square(), q, 2, Ops.AttentionKind.SOFTMAX, null);
        });
        assertSameGradientUnderPressure("relu attention", x -> {
            NDArray q = x.reshape(2, 3, 4);
            return Ops.attention(q, q.square(), q, 2, Ops.AttentionKind.RELU, null);
        });
    }

    @Test
    void djlMulByNumberIsTheHazard() {
        // documents the mechanism: the same computation with DJL's mul(Number) loses its factor under pressure
        float[] data = new float[24];
        java.util.Arrays.fill(data, 1f);
        try (NDManager m = NDManager.newBaseManager()) {
            float[] stressed = gradient(m, data, x -> x.mul(1.702f).square(), true);
            boolean corrupted = false;
            for (float g : stressed) {
                corrupted |= !(Math.abs(g - 2 * 1.702f * 1.702f) < 1e-4);
            }
            System.out.println("DJL mul(Number) under GC pressure: gradient "
                    + (corrupted ? "corrupted (as expected)" : "not corrupted this time"));
        }
    }
}
