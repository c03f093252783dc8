package dev.mdx.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.tensor.Ops;
import dev.mdx.testing.Golden;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SeparableConv2dTest {
    private static final int IN = 4;
    private static final int OUT = 6;

    @Test
    void keysAndShapes() {
        SeparableConv2d conv = new SeparableConv2d(IN, OUT, 3, 1, 1);
        assertEquals(List.of("depthwise.weight", "pointwise.weight", "pointwise.bias"),
                List.copyOf(conv.namedParameters().keySet()));
        assertEquals(new ai.djl.ndarray.types.Shape(IN, 1, 3, 3), conv.namedParameters().get("depthwise.weight").shape());
    }

    /** Equals a grouped (groups = in) conv followed by a 1x1 conv, and the full conv W[o,i] = P[o,i] * D[i]. */
    @Test
    void equalsGroupedConvThenPointwiseAndTheEquivalentFullConv() {
        Random rng = new Random(3);
        for (int stride : new int[] {1, 2}) {
            try (NDManager m = NDManager.newBaseManager()) {
                SeparableConv2d conv = new SeparableConv2d(IN, OUT, 3, stride, 1);
                TestArrays.fill(conv, m, rng, 0.5f);
                NDArray x = TestArrays.randn(m, rng, 1f, 2, IN, 7, 9);
                NDArray d = conv.namedParameters().get("depthwise.weight").get();
                NDArray p = conv.namedParameters().get("pointwise.weight").get();
                NDArray b = conv.namedParameters().get("pointwise.bias").get();
                NDArray actual = conv.forward(x);

                NDArray twoStep = Ops.conv2d(Ops.conv2d(x, d, null, stride, 1, IN), p, b, 1, 0, 1);
                Golden.assertClose(twoStep, actual, 1e-6, "separable vs grouped + 1x1, stride " + stride);

                float[] dw = d.toFloatArray();
                float[] pw = p.toFloatArray();
                float[] full = new float[OUT * IN * 9];
                for (int o = 0; o < OUT; o++) {
                    for (int i = 0; i < IN; i++) {
                        for (int k = 0; k < 9; k++) {
                            full[(o * IN + i) * 9 + k] = pw[o * IN + i] * dw[i * 9 + k];
                        }
                    }
                }
                NDArray fullW = m.create(full, new ai.djl.ndarray.types.Shape(OUT, IN, 3, 3));
                Golden.assertClose(Ops.conv2d(x, fullW, b, stride, 1, 1), actual, 1e-5,
                        "separable vs equivalent full conv, stride " + stride);
            }
        }
    }
}
