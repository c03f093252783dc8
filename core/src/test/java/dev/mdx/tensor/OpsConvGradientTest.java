package dev.mdx.tensor;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.mdx.testing.Golden;
import org.junit.jupiter.api.Test;

/**
 * Float32 conv gradients against float64 (which takes libtorch's reference path): libtorch 2.7.1's oneDNN input
 * gradient of a 3x3 conv is wrong for output channel counts that are not a multiple of 16, which Ops.conv2d
 * works around. Covers a UNet conv_out (-> 4), an odd count, a stride-2 conv and a safe count.
 */
class OpsConvGradientTest {
    private static final int ROUNDS = 3;

    @Test
    void inputWeightAndBiasGradientsMatchFloat64() {
        int[][] cases = {{16, 4, 1}, {32, 12, 1}, {16, 3, 2}, {16, 16, 1}};
        for (int[] c : cases) {
            for (int round = 0; round < ROUNDS; round++) {
                check(c[0], c[1], c[2], round);
            }
        }
    }

    private static void check(int in, int out, int stride, int round) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(new Shape(2, in, 16, 16));
            NDArray w = m.randomNormal(new Shape(out, in, 3, 3)).mul(0.2f);
            NDArray b = m.randomNormal(new Shape(out));
            NDArray[] f32 = gradients(x, w, b, stride);
            NDArray[] f64 = gradients(x.toType(DataType.FLOAT64, true), w.toType(DataType.FLOAT64, true),
                    b.toType(DataType.FLOAT64, true), stride);
            String what = String.format("conv %d->%d stride %d round %d", in, out, stride, round);
            String[] names = {"input", "weight", "bias"};
            for (int i = 0; i < 3; i++) {
                double scale = Math.max(1, f64[i].abs().max().toType(DataType.FLOAT64, false).getDouble());
                Golden.assertClose(f64[i], f32[i], 1e-5 * scale, what + " " + names[i] + " gradient");
            }
        }
    }

    /** Gradients of sum(conv(silu(x)) * r) for x, w, b; the input is an intermediate, as inside a network. */
    private static NDArray[] gradients(NDArray x, NDArray w, NDArray b, int stride) {
        for (NDArray a : new NDArray[] {x, w, b}) {
            a.setRequiresGradient(true);
        }
        try (GradientCollector c = Engine.getInstance().newGradientCollector()) {
            NDArray y = Ops.conv2d(Ops.silu(x), w, b, stride, 1, 1);
            NDArray r = y.getManager().arange(0, (int) y.size(), 1, y.getDataType()).reshape(y.getShape()).sin();
            c.backward(y.mul(r).sum());
        }
        return new NDArray[] {x.getGradient(), w.getGradient(), b.getGradient()};
    }
}
