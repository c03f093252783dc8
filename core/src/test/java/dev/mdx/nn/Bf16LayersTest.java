package dev.mdx.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.mdx.MdxException;
import dev.mdx.tensor.Ops;
import dev.mdx.tensor.Precision;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Layers in {@link Precision#BF16} against the same layers in fp32: close, but really computed in bfloat16. */
class Bf16LayersTest {
    private final Random rng = new Random(5);

    @Test
    void linearConvAndAttentionInBf16AreCloseToFp32() {
        try (NDManager m = NDManager.newBaseManager()) {
            Linear linear = new Linear(64, 48, true);
            TestArrays.fill(linear, m, rng, 0.1f);
            NDArray x = TestArrays.randn(m, rng, 1, 2, 10, 64);
            compare(() -> linear.forward(x));
            Conv2d conv = new Conv2d(32, 16, 3, 1, 1);
            TestArrays.fill(conv, m, rng, 0.1f);
            NDArray img = TestArrays.randn(m, rng, 1, 2, 32, 8, 8);
            compare(() -> conv.forward(img));
            Conv2d noBias = new Conv2d(32, 32, 3, 2, 1, 32, false); // depthwise, strided, no bias
            TestArrays.fill(noBias, m, rng, 0.3f);
            compare(() -> noBias.forward(img));
            // bf16 output channels that oneDNN gets wrong (not a multiple of 16) run in fp32
            for (int out : new int[] {3, 4, 24}) {
                Conv2d convOut = new Conv2d(32, out, 3, 1, 1);
                TestArrays.fill(convOut, m, rng, 0.1f);
                float[] fp32 = convOut.forward(img).toFloatArray();
                try (Precision.Scope s = Precision.use(Precision.BF16)) {
                    assertTrue(relativeError(fp32, convOut.forward(img).toFloatArray()) < 1e-2, "out " + out);
                }
            }
            NDArray q = TestArrays.randn(m, rng, 1, 2, 20, 64);
            NDArray k = TestArrays.randn(m, rng, 1, 2, 12, 64);
            compare(() -> Ops.attention(q, k, k, 4, Ops.AttentionKind.SOFTMAX, null));
        }
    }

    /** bf16 has 8 significant bits: relative error a few 1e-3, never bit-equal to fp32 on random data. */
    private static void compare(Supplier<NDArray> layer) {
        float[] fp32 = layer.get().toFloatArray();
        float[] bf16;
        try (Precision.Scope s = Precision.use(Precision.BF16)) {
            NDArray y = layer.get();
            assertEquals(ai.djl.ndarray.types.DataType.FLOAT32, y.getDataType(), "results between layers stay fp32");
            bf16 = y.toFloatArray();
        }
        double rel = relativeError(fp32, bf16);
        assertTrue(rel < 1e-2, "relative error " + rel);
        assertTrue(rel > 1e-5, "bf16 path not taken (relative error " + rel + ")");
    }

    /** Relative RMS error of {@code actual} against {@code expected}. */
    private static double relativeError(float[] expected, float[] actual) {
        double err = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            err += (expected[i] - actual[i]) * (double) (expected[i] - actual[i]);
            norm += expected[i] * (double) expected[i];
        }
        return Math.sqrt(err / norm);
    }

    @Test
    void newWeightArraysGetNewBf16Copies() {
        try (NDManager m = NDManager.newBaseManager()) {
            Linear linear = new Linear(8, 4, false);
            TestArrays.fill(linear, m, rng, 0.5f);
            NDArray x = TestArrays.randn(m, rng, 1, 3, 8);
            try (Precision.Scope s = Precision.use(Precision.BF16)) {
                float[] before = linear.forward(x).toFloatArray();
                linear.namedParameters().get("weight").set(linear.namedParameters().get("weight").get().mul(2));
                float[] after = linear.forward(x).toFloatArray();
                assertNotEquals(Arrays.toString(before), Arrays.toString(after));
                for (int i = 0; i < before.length; i++) {
                    assertEquals(2 * before[i], after[i], 1e-2 * Math.abs(after[i]) + 1e-3);
                }
            }
        }
    }

    @Test
    void trainingIgnoresBf16() {
        try (NDManager m = NDManager.newBaseManager(); Precision.Scope s = Precision.use(Precision.BF16)) {
            assertTrue(Precision.bf16Active());
            try (GradientCollector c = Engine.getInstance().newGradientCollector()) {
                assertFalse(Precision.bf16Active(), "bf16 is for inference only");
            }
        }
        assertEquals(Precision.FP32, Precision.current(), "the scope restores the previous precision");
    }

    @Test
    void precisionNamesAreCheckedAndBf16IsAvailableOrExplained() {
        assertEquals(Precision.BF16, Precision.parse(" BF16"));
        assertThrows(MdxException.class, () -> Precision.parse("fp8"));
        assertEquals(null, Precision.fallbackNote(Precision.FP32));
        String note = Precision.fallbackNote(Precision.BF16);
        assertEquals(note == null, Precision.cpuHasBf16(), "bf16 runs exactly where the CPU has it: " + note);
        assertEquals(note == null ? Precision.BF16 : Precision.FP32, Precision.resolve(Precision.BF16));
    }
}
