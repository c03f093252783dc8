package dev.mdx.tensor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Gradients of {@link Ops#conv2d} and {@link Ops#mulScalar} against the same graph in float64. libtorch's fp32
 * input gradient of 3x3 stride-1 convolutions with fewer than 16 output channels is wrong on this project's CPUs;
 * Ops routes them through zero-padded weights while recording gradients.
 */
class ConvBackwardTest {
    /** {input grad, weight grad, bias grad} of sum(conv(x, w, b) * r) * 0.5 in {@code dt}, as float arrays. */
    private static float[][] grads(NDManager m, int[] c, DataType dt) {
        int batch = c[0];
        int in = c[1];
        int out = c[2];
        int size = c[3];
        int stride = c[4];
        try (NDManager s = m.newSubManager()) {
            Random r = new Random(11);
            NDArray x = s.create(gaussians(r, batch * in * size * size, 1), new Shape(batch, in, size, size))
                    .toType(dt, false);
            NDArray w = s.create(gaussians(r, out * in * 9, 1 / Math.sqrt(in * 9)), new Shape(out, in, 3, 3))
                    .toType(dt, false);
            NDArray b = s.create(gaussians(r, out, 1), new Shape(out)).toType(dt, false);
            for (NDArray a : new NDArray[] {x, w, b}) {
                a.setRequiresGradient(true);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = Ops.conv2d(x, w, b, stride, 1, 1);
                NDArray weights = s.create(gaussians(r, (int) y.getShape().size(), 1), y.getShape()).toType(dt, false);
                gc.backward(Ops.mulScalar(y.mul(weights).sum(), 0.5));
            }
            return new float[][] {f32(x.getGradient()), f32(w.getGradient()), f32(b.getGradient())};
        }
    }

    private static float[] f32(NDArray a) {
        return a.toType(DataType.FLOAT32, false).toFloatArray();
    }

    private static double[] gaussians(Random r, int n, double scale) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (r.nextGaussian() * scale);
        }
        return out;
    }

    @Test
    void smallOutputChannelConvolutionsHaveCorrectGradients() {
        // {batch, in, out, size, stride}: a VAE's conv_out (3), a fashion encoder's conv_out (8), tiny test models
        int[][] cases = {{8, 32, 3, 16, 1}, {4, 64, 8, 8, 1}, {4, 8, 8, 8, 1}, {4, 3, 8, 8, 1}, {2, 16, 1, 12, 1},
            {4, 32, 3, 16, 2}, {4, 16, 16, 8, 1}};
        String[] names = {"input", "weight", "bias"};
        try (NDManager m = NDManager.newBaseManager()) {
            for (int[] c : cases) {
                float[][] single = grads(m, c, DataType.FLOAT32);
                float[][] exact = grads(m, c, DataType.FLOAT64);
                for (int k = 0; k < 3; k++) {
                    double maxErr = 0;
                    double maxRef = 0;
                    for (int i = 0; i < exact[k].length; i++) {
                        maxErr = Math.max(maxErr, Math.abs(single[k][i] - exact[k][i]));
                        maxRef = Math.max(maxRef, Math.abs(exact[k][i]));
                    }
                    System.out.printf("conv b%d %d->%d %dx%d s%d: %s gradient max abs error %.2e (max %.2e)%n", c[0],
                            c[1], c[2], c[3], c[3], c[4], names[k], maxErr, maxRef);
                    assertTrue(maxErr <= 1e-5 * Math.max(1, maxRef), names[k] + " gradient of conv " + c[1] + "->"
                            + c[2] + ": max abs error " + maxErr);
                }
            }
        }
    }
}
