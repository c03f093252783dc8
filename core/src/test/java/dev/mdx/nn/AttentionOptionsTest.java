package dev.mdx.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.tensor.Ops;
import dev.mdx.testing.Golden;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The attention options against plain Java references and against each other. */
class AttentionOptionsTest {
    private static final int B = 2;
    private static final int NQ = 6;
    private static final int NK = 5;
    private static final int QUERY_DIM = 12;
    private static final int CONTEXT_DIM = 7;
    private static final int HEADS = 3;
    private static final int HEAD_DIM = 4;

    @Test
    void sharedKvEqualsSeparateProjectionsWithEqualWeights() {
        Random rng = new Random(1);
        try (NDManager m = NDManager.newBaseManager()) {
            Attention shared = new Attention(spec(Ops.AttentionKind.SOFTMAX, true));
            Attention separate = new Attention(spec(Ops.AttentionKind.SOFTMAX, false));
            assertTrue(shared.namedParameters().containsKey("to_kv.weight"));
            assertFalse(shared.namedParameters().containsKey("to_k.weight"));
            TestArrays.fill(shared, m, rng, 0.3f);
            separate.namedParameters().forEach((k, p) -> {
                String source = k.equals("to_k.weight") || k.equals("to_v.weight") ? "to_kv.weight" : k;
                p.set(shared.namedParameters().get(source).get());
            });
            NDArray x = TestArrays.randn(m, rng, 1f, B, NQ, QUERY_DIM);
            NDArray ctx = TestArrays.randn(m, rng, 1f, B, NK, CONTEXT_DIM);
            Golden.assertClose(separate.forward(x, ctx), shared.forward(x, ctx), 1e-6, "shared to_kv vs to_k = to_v");
        }
    }

    @Test
    void softmaxAndReluAttentionMatchJavaReference() {
        for (Ops.AttentionKind kind : Ops.AttentionKind.values()) {
            for (boolean sharedKv : new boolean[] {false, true}) {
                Random rng = new Random(2);
                try (NDManager m = NDManager.newBaseManager()) {
                    Attention attn = new Attention(spec(kind, sharedKv));
                    TestArrays.fill(attn, m, rng, 0.3f);
                    NDArray x = TestArrays.randn(m, rng, 1f, B, NQ, QUERY_DIM);
                    NDArray ctx = TestArrays.randn(m, rng, 1f, B, NK, CONTEXT_DIM);
                    NDArray expected = m.create(reference(attn, x, ctx, kind, sharedKv), x.getShape());
                    Golden.assertClose(expected, attn.forward(x, ctx), 1e-5,
                            kind + (sharedKv ? " shared-kv" : "") + " attention vs Java reference");
                }
            }
        }
    }

    private static Attention.Spec spec(Ops.AttentionKind kind, boolean sharedKv) {
        return new Attention.Spec(QUERY_DIM, CONTEXT_DIM, HEADS, HEAD_DIM, kind, sharedKv);
    }

    /** Plain loops in double: per head, weights = softmax(s) or relu(s) / Nk with s = q.k / sqrt(d). */
    private static float[] reference(Attention attn, NDArray x, NDArray ctx, Ops.AttentionKind kind, boolean sharedKv) {
        var p = attn.namedParameters();
        float[] xs = x.toFloatArray();
        float[] cs = ctx.toFloatArray();
        int inner = HEADS * HEAD_DIM;
        double[][] q = project(xs, B * NQ, QUERY_DIM, p.get("to_q.weight").get().toFloatArray(), inner);
        double[][] k = project(cs, B * NK, CONTEXT_DIM,
                p.get(sharedKv ? "to_kv.weight" : "to_k.weight").get().toFloatArray(), inner);
        double[][] v = project(cs, B * NK, CONTEXT_DIM,
                p.get(sharedKv ? "to_kv.weight" : "to_v.weight").get().toFloatArray(), inner);
        float[] wo = p.get("to_out.0.weight").get().toFloatArray();
        float[] bo = p.get("to_out.0.bias").get().toFloatArray();
        float[] out = new float[B * NQ * QUERY_DIM];
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < NQ; i++) {
                double[] attended = new double[inner];
                for (int h = 0; h < HEADS; h++) {
                    double[] s = new double[NK];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < NK; j++) {
                        for (int d = 0; d < HEAD_DIM; d++) {
                            s[j] += q[b * NQ + i][h * HEAD_DIM + d] * k[b * NK + j][h * HEAD_DIM + d];
                        }
                        s[j] /= Math.sqrt(HEAD_DIM);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < NK; j++) {
                        s[j] = kind == Ops.AttentionKind.SOFTMAX ? Math.exp(s[j] - max) : Math.max(0, s[j]) / NK;
                        sum += s[j];
                    }
                    for (int j = 0; j < NK; j++) {
                        double w = kind == Ops.AttentionKind.SOFTMAX ? s[j] / sum : s[j];
                        for (int d = 0; d < HEAD_DIM; d++) {
                            attended[h * HEAD_DIM + d] += w * v[b * NK + j][h * HEAD_DIM + d];
                        }
                    }
                }
                for (int o = 0; o < QUERY_DIM; o++) {
                    double acc = bo[o];
                    for (int c = 0; c < inner; c++) {
                        acc += wo[o * inner + c] * attended[c];
                    }
                    out[(b * NQ + i) * QUERY_DIM + o] = (float) acc;
                }
            }
        }
        return out;
    }

    /** rows (n, in) times W^T with W (out, in). */
    private static double[][] project(float[] rows, int n, int in, float[] w, int out) {
        double[][] y = new double[n][out];
        for (int r = 0; r < n; r++) {
            for (int o = 0; o < out; o++) {
                double acc = 0;
                for (int c = 0; c < in; c++) {
                    acc += (double) rows[r * in + c] * w[o * in + c];
                }
                y[r][o] = acc;
            }
        }
        return y;
    }

    /** The masked path (key count not folded into the queries) agrees with the unmasked one for a zero mask. */
    @Test
    void maskedAttentionWithZeroMaskEqualsUnmasked() {
        for (Ops.AttentionKind kind : Ops.AttentionKind.values()) {
            Random rng = new Random(7);
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray q = TestArrays.randn(m, rng, 1f, B, NQ, HEADS * HEAD_DIM);
                NDArray k = TestArrays.randn(m, rng, 1f, B, NK, HEADS * HEAD_DIM);
                NDArray v = TestArrays.randn(m, rng, 1f, B, NK, HEADS * HEAD_DIM);
                NDArray zeroMask = m.zeros(new ai.djl.ndarray.types.Shape(1, 1, NQ, NK));
                Golden.assertClose(Ops.attention(q, k, v, HEADS, kind, null), Ops.attention(q, k, v, HEADS, kind, zeroMask),
                        1e-6, kind + " attention with a zero mask");
            }
        }
    }

    @Test
    void specRejectsNonPositiveSizes() {
        assertEquals(IllegalArgumentException.class, org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> new Attention.Spec(8, 8, 0, 4, Ops.AttentionKind.SOFTMAX, false)).getClass());
    }
}
