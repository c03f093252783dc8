package dev.mdx.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.testing.Golden;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** GEGLU, SwiGLU and GELU feed-forwards against plain Java references. */
class FeedForwardTest {
    private static final int DIM = 6;
    private static final int INNER = 10;
    private static final int ROWS = 5;

    @Test
    void matchesJavaReference() {
        for (FeedForwardActivation act : FeedForwardActivation.values()) {
            Random rng = new Random(4);
            try (NDManager m = NDManager.newBaseManager()) {
                FeedForward ff = new FeedForward(DIM, INNER, act);
                int projOut = act.gated() ? 2 * INNER : INNER;
                assertEquals(new Shape(projOut, DIM), ff.namedParameters().get("net.0.proj.weight").shape());
                assertEquals(new Shape(DIM, INNER), ff.namedParameters().get("net.2.weight").shape());
                TestArrays.fill(ff, m, rng, 0.5f);
                NDArray x = TestArrays.randn(m, rng, 1f, ROWS, DIM);
                Golden.assertClose(m.create(reference(ff, x.toFloatArray(), act), new Shape(ROWS, DIM)),
                        ff.forward(x), 1e-5, act.configName() + " feed-forward vs Java reference");
            }
        }
    }

    private static float[] reference(FeedForward ff, float[] x, FeedForwardActivation act) {
        var p = ff.namedParameters();
        float[] w1 = p.get("net.0.proj.weight").get().toFloatArray();
        float[] b1 = p.get("net.0.proj.bias").get().toFloatArray();
        float[] w2 = p.get("net.2.weight").get().toFloatArray();
        float[] b2 = p.get("net.2.bias").get().toFloatArray();
        int projOut = b1.length;
        float[] out = new float[ROWS * DIM];
        for (int r = 0; r < ROWS; r++) {
            double[] h = new double[projOut];
            for (int o = 0; o < projOut; o++) {
                h[o] = b1[o];
                for (int c = 0; c < DIM; c++) {
                    h[o] += (double) w1[o * DIM + c] * x[r * DIM + c];
                }
            }
            double[] a = new double[INNER];
            for (int i = 0; i < INNER; i++) {
                a[i] = switch (act) {
                    case GEGLU -> h[i] * gelu(h[INNER + i]);
                    case SWIGLU -> h[i] * h[INNER + i] / (1 + Math.exp(-h[INNER + i]));
                    case GELU -> gelu(h[i]);
                };
            }
            for (int o = 0; o < DIM; o++) {
                double acc = b2[o];
                for (int i = 0; i < INNER; i++) {
                    acc += w2[o * INNER + i] * a[i];
                }
                out[r * DIM + o] = (float) acc;
            }
        }
        return out;
    }

    /** Exact GELU, x * Phi(x), with Phi from a high-precision erf series. */
    private static double gelu(double x) {
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    private static double erf(double z) {
        // Maclaurin series, converges quickly for the |z| < 4 seen here
        double sum = 0;
        double term = z;
        for (int n = 0; n < 200; n++) {
            sum += term / (2 * n + 1);
            term *= -z * z / (n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }
}
