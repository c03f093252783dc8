package dev.mdx.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every composite op against a plain Java reference written from the defining formula. */
class OpsTest {
    NDManager m;
    Random rng = new Random(11);

    @BeforeEach
    void setUp() {
        m = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        m.close();
    }

    float[] randn(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rng.nextGaussian();
        }
        return a;
    }

    static void close(float[] expected, float[] actual, double atol) {
        assertEquals(expected.length, actual.length);
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(max <= atol, "max abs error " + max + " > " + atol);
    }

    @Test
    void groupNormMatchesFormula() {
        int b = 2, c = 6, h = 3, w = 4, g = 3;
        float[] x = randn(b * c * h * w);
        float[] gamma = randn(c);
        float[] beta = randn(c);
        float eps = 1e-5f;
        float[] expected = new float[x.length];
        int per = c / g * h * w;
        for (int bi = 0; bi < b; bi++) {
            for (int gi = 0; gi < g; gi++) {
                int base = (bi * c + gi * (c / g)) * h * w;
                double mean = 0;
                for (int i = 0; i < per; i++) {
                    mean += x[base + i];
                }
                mean /= per;
                double var = 0;
                for (int i = 0; i < per; i++) {
                    var += (x[base + i] - mean) * (x[base + i] - mean);
                }
                var /= per;
                for (int i = 0; i < per; i++) {
                    int ch = gi * (c / g) + i / (h * w);
                    expected[base + i] = (float) ((x[base + i] - mean) / Math.sqrt(var + eps) * gamma[ch] + beta[ch]);
                }
            }
        }
        assertTrue(ScriptedOps.usable(), "the fused kernel is what inference runs");
        NDArray out = Ops.groupNorm(m.create(x, new Shape(b, c, h, w)), g, m.create(gamma), m.create(beta), eps);
        close(expected, out.toFloatArray(), 1e-5);
        NDArray composite = Ops.groupNormComposite(m.create(x, new Shape(b, c, h, w)), g, m.create(gamma),
                m.create(beta), eps);
        close(expected, composite.toFloatArray(), 1e-5);
    }

    @Test
    void layerNormMatchesFormula() {
        int rows = 5, d = 8;
        float[] x = randn(rows * d);
        float[] gamma = randn(d);
        float[] beta = randn(d);
        float[] expected = new float[x.length];
        for (int r = 0; r < rows; r++) {
            double mean = 0, var = 0;
            for (int i = 0; i < d; i++) {
                mean += x[r * d + i];
            }
            mean /= d;
            for (int i = 0; i < d; i++) {
                var += Math.pow(x[r * d + i] - mean, 2);
            }
            var /= d;
            for (int i = 0; i < d; i++) {
                expected[r * d + i] = (float) ((x[r * d + i] - mean) / Math.sqrt(var + 1e-5) * gamma[i] + beta[i]);
            }
        }
        close(expected, Ops.layerNorm(m.create(x, new Shape(rows, d)), m.create(gamma), m.create(beta), 1e-5f)
                .toFloatArray(), 1e-5);
    }

    @Test
    void activationsMatchFormulas() {
        float[] x = randn(50);
        float[] silu = new float[50], gelu = new float[50], quick = new float[50];
        for (int i = 0; i < 50; i++) {
            silu[i] = (float) (x[i] / (1 + Math.exp(-x[i])));
            gelu[i] = (float) (0.5 * x[i] * (1 + erf(x[i] / Math.sqrt(2))));
            quick[i] = (float) (x[i] / (1 + Math.exp(-1.702 * x[i])));
        }
        NDArray a = m.create(x);
        close(silu, Ops.silu(a).toFloatArray(), 1e-6);
        close(gelu, Ops.gelu(a).toFloatArray(), 1e-6);
        close(quick, Ops.quickGelu(a).toFloatArray(), 1e-6);
    }

    /** Abramowitz-Stegun 7.1.26 is too coarse; use a series/continued-fraction erf accurate to ~1e-12. */
    static double erf(double z) {
        double t = 1.0 / (1.0 + 0.5 * Math.abs(z));
        double ans = 1 - t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return z >= 0 ? ans : -ans;
    }

    @Test
    void upsampleRepeatsEachPixelTwice() {
        NDArray x = m.arange(6f).reshape(1, 1, 2, 3);
        float[] expected = {0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 3, 3, 4, 4, 5, 5};
        NDArray up = Ops.upsampleNearest2x(x);
        assertEquals(new Shape(1, 1, 4, 6), up.getShape());
        assertArrayEquals(expected, up.toFloatArray());
    }

    @Test
    void linearAndConvMatchLoops() {
        int in = 3, out = 4;
        float[] x = randn(2 * in), w = randn(out * in), bias = randn(out);
        float[] expected = new float[2 * out];
        for (int r = 0; r < 2; r++) {
            for (int o = 0; o < out; o++) {
                double s = bias[o];
                for (int i = 0; i < in; i++) {
                    s += x[r * in + i] * w[o * in + i];
                }
                expected[r * out + o] = (float) s;
            }
        }
        close(expected, Ops.linear(m.create(x, new Shape(2, in)), m.create(w, new Shape(out, in)), m.create(bias))
                .toFloatArray(), 1e-5);

        int c = 2, h = 5, wd = 4, k = 3;
        float[] img = randn(c * h * wd), kern = randn(out * c * k * k);
        int oh = (h + 2 - k) / 2 + 1, ow = (wd + 2 - k) / 2 + 1;
        float[] conv = new float[out * oh * ow];
        for (int o = 0; o < out; o++) {
            for (int y = 0; y < oh; y++) {
                for (int xx = 0; xx < ow; xx++) {
                    double s = bias[o];
                    for (int ci = 0; ci < c; ci++) {
                        for (int ky = 0; ky < k; ky++) {
                            for (int kx = 0; kx < k; kx++) {
                                int iy = y * 2 - 1 + ky, ix = xx * 2 - 1 + kx;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                    s += img[(ci * h + iy) * wd + ix] * kern[((o * c + ci) * k + ky) * k + kx];
                                }
                            }
                        }
                    }
                    conv[(o * oh + y) * ow + xx] = (float) s;
                }
            }
        }
        close(conv, Ops.conv2d(m.create(img, new Shape(1, c, h, wd)), m.create(kern, new Shape(out, c, k, k)),
                m.create(bias), 2, 1, 1).toFloatArray(), 1e-5);
    }

    @Test
    void chunkedAttentionMatchesLoops() {
        long saved = Ops.chunkScoreElements;
        Ops.chunkScoreElements = 2 * 2 * 7 * 2; // two query rows per chunk, uneven last chunk
        Ops.fused = false;
        try {
            attentionMatchesLoops();
        } finally {
            Ops.chunkScoreElements = saved;
            Ops.fused = true;
        }
    }

    /** The composite path (scores, softmax, product) that training differentiates. */
    @Test
    void compositeAttentionMatchesLoops() {
        Ops.fused = false;
        try {
            attentionMatchesLoops();
        } finally {
            Ops.fused = true;
        }
    }

    /**
     * The chunked path writes each chunk into a preallocated output in place; autograd must see through that:
     * gradients of q, k and v equal those of the unchunked path.
     */
    @Test
    void chunkedAttentionGradientsMatchUnchunked() {
        int b = 2, nq = 5, nk = 7, heads = 2, d = 3;
        float[][] inputs = {randn(b * nq * heads * d), randn(b * nk * heads * d), randn(b * nk * heads * d)};
        float[] weights = randn(b * nq * heads * d);
        for (Ops.AttentionKind kind : Ops.AttentionKind.values()) {
            float[][] whole = attentionGradients(inputs, weights, kind, b, nq, nk, heads * d);
            long saved = Ops.chunkScoreElements;
            Ops.chunkScoreElements = 2 * 2 * 7 * 2; // two query rows per chunk, uneven last chunk
            try {
                float[][] chunked = attentionGradients(inputs, weights, kind, b, nq, nk, heads * d);
                for (int i = 0; i < 3; i++) {
                    close(whole[i], chunked[i], 1e-6);
                }
            } finally {
                Ops.chunkScoreElements = saved;
            }
        }
    }

    /** Gradients of sum(attention(q, k, v) * weights) with respect to q, k and v. */
    private float[][] attentionGradients(float[][] qkv, float[] weights, Ops.AttentionKind kind, int b, int nq,
            int nk, int inner) {
        try (NDManager scope = m.newSubManager()) {
            NDArray q = scope.create(qkv[0], new Shape(b, nq, inner));
            NDArray k = scope.create(qkv[1], new Shape(b, nk, inner));
            NDArray v = scope.create(qkv[2], new Shape(b, nk, inner));
            for (NDArray x : new NDArray[] {q, k, v}) {
                x.setRequiresGradient(true);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray out = Ops.attention(q, k, v, 2, kind, null);
                gc.backward(out.mul(scope.create(weights, out.getShape())).sum());
            }
            return new float[][] {q.getGradient().toFloatArray(), k.getGradient().toFloatArray(),
                    v.getGradient().toFloatArray()};
        }
    }

    @Test
    void attentionMatchesLoops() {
        int b = 2, nq = 5, nk = 7, heads = 2, d = 3;
        float[] q = randn(b * nq * heads * d), k = randn(b * nk * heads * d), v = randn(b * nk * heads * d);
        for (Ops.AttentionKind kind : Ops.AttentionKind.values()) {
            float[] expected = new float[b * nq * heads * d];
            for (int bi = 0; bi < b; bi++) {
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < nq; i++) {
                        double[] s = new double[nk];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < nk; j++) {
                            for (int e = 0; e < d; e++) {
                                s[j] += q[((bi * nq + i) * heads + h) * d + e] * k[((bi * nk + j) * heads + h) * d + e];
                            }
                            s[j] /= Math.sqrt(d);
                            max = Math.max(max, s[j]);
                        }
                        double sum = 0;
                        for (int j = 0; j < nk; j++) {
                            s[j] = kind == Ops.AttentionKind.SOFTMAX ? Math.exp(s[j] - max) : Math.max(0, s[j]) / nk;
                            sum += s[j];
                        }
                        for (int e = 0; e < d; e++) {
                            double o = 0;
                            for (int j = 0; j < nk; j++) {
                                double wgt = kind == Ops.AttentionKind.SOFTMAX ? s[j] / sum : s[j];
                                o += wgt * v[((bi * nk + j) * heads + h) * d + e];
                            }
                            expected[((bi * nq + i) * heads + h) * d + e] = (float) o;
                        }
                    }
                }
            }
            NDArray out = Ops.attention(m.create(q, new Shape(b, nq, heads * d)), m.create(k, new Shape(b, nk, heads * d)),
                    m.create(v, new Shape(b, nk, heads * d)), heads, kind, null);
            close(expected, out.toFloatArray(), 1e-5);
        }
    }

    @Test
    void opsNeverLeaveArraysInTheWeightManager() {
        try (NDManager weights = NDManager.newBaseManager()) {
            NDArray gamma = weights.ones(new Shape(4));
            NDArray beta = weights.zeros(new Shape(4));
            int before = weights.getManagedArrays().size();
            try (NDManager scope = NDManager.newBaseManager()) {
                for (int i = 0; i < 10; i++) {
                    Ops.groupNorm(scope.ones(new Shape(1, 4, 2, 2)), 2, gamma, beta, 1e-5f);
                }
            }
            assertEquals(before, weights.getManagedArrays().size());
        }
    }

    @Test
    void groupNormGradientMatchesFiniteDifferences() {
        int c = 4;
        double[] x = new double[2 * c * 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = rng.nextGaussian();
        }
        double[] r = new double[x.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = rng.nextGaussian();
        }
        NDArray gamma = m.create(new double[] {1.5, -0.5, 2, 0.7});
        NDArray beta = m.create(new double[] {0.1, 0.2, -0.3, 0});
        NDArray weightsOut = m.create(r, new Shape(2, c, 3));
        NDArray input = m.create(x, new Shape(2, c, 3));
        input.setRequiresGradient(true);
        NDArray grad;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = Ops.groupNorm(input, 2, gamma, beta, 1e-5f).mul(weightsOut).sum();
            gc.backward(loss);
            grad = input.getGradient().duplicate();
        }
        double h = 1e-6;
        double[] analytic = grad.toDoubleArray();
        for (int i = 0; i < x.length; i += 5) {
            double[] xp = x.clone(), xm = x.clone();
            xp[i] += h;
            xm[i] -= h;
            double fp = Ops.groupNorm(m.create(xp, new Shape(2, c, 3)), 2, gamma, beta, 1e-5f).mul(weightsOut).sum()
                    .toType(DataType.FLOAT64, false).getDouble();
            double fm = Ops.groupNorm(m.create(xm, new Shape(2, c, 3)), 2, gamma, beta, 1e-5f).mul(weightsOut).sum()
                    .toType(DataType.FLOAT64, false).getDouble();
            assertEquals((fp - fm) / (2 * h), analytic[i], 1e-6, "d loss / d x[" + i + "]");
        }
    }

    /**
     * oneDNN's batched 3x3 conv is wrong for input channel counts above 16 that are not multiples of 16 (measured
     * off by 10-23 at batch 2 and 3 for 20, 24, 33 and 40 channels); every sample of a batch must equal the same
     * sample convolved alone, and the FLOP count must be that of the real channels.
     */
    @Test
    void batchedConvWithAnOddInputChannelCountEqualsPerSampleConvs() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (int in : new int[] {20, 24, 33, 40}) {
                for (int batch : new int[] {2, 3}) {
                    NDArray x = m.randomNormal(new Shape(batch, in, 8, 8));
                    NDArray w = m.randomNormal(new Shape(16, in, 3, 3));
                    NDArray b = m.randomNormal(new Shape(16));
                    NDArray y;
                    long flops;
                    try (FlopCounter counter = FlopCounter.start()) {
                        y = Ops.conv2d(x, w, b, 1, 1, 1);
                        flops = counter.flops();
                    }
                    assertEquals(new Shape(batch, 16, 8, 8), y.getShape());
                    assertEquals(2L * batch * 16 * 64 * in * 9, flops, "FLOPs of the real channels");
                    for (int i = 0; i < batch; i++) {
                        NDArray alone = Ops.conv2d(x.get(i + ":" + (i + 1)), w, b, 1, 1, 1);
                        float diff = y.get(i + ":" + (i + 1)).sub(alone).abs().max().getFloat();
                        assertTrue(diff < 1e-4, in + " channels, batch " + batch + ", sample " + i + ": off by " + diff);
                    }
                }
            }
        }
    }

    /** torch's pixel_unshuffle: out[ch f^2 + i f + j, y, x] = in[ch, y f + i, x f + j]; pixel_shuffle its inverse. */
    @Test
    void pixelShuffleAndUnshuffleMatchTorchOrder() {
        int c = 3;
        int f = 2;
        int h = 4;
        int w = 6;
        float[] image = randn(c * h * w);
        float[] packed = new float[image.length];
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < f; i++) {
                for (int j = 0; j < f; j++) {
                    for (int y = 0; y < h / f; y++) {
                        for (int x = 0; x < w / f; x++) {
                            packed[((ch * f * f + i * f + j) * (h / f) + y) * (w / f) + x] =
                                    image[(ch * h + y * f + i) * w + x * f + j];
                        }
                    }
                }
            }
        }
        NDArray imageArray = m.create(image, new Shape(1, c, h, w));
        NDArray packedArray = m.create(packed, new Shape(1, c * f * f, h / f, w / f));
        assertArrayEquals(packed, Ops.pixelUnshuffle(imageArray, f).toFloatArray(), 0f);
        assertEquals(new Shape(1, c, h, w), Ops.pixelShuffle(packedArray, f).getShape());
        assertArrayEquals(image, Ops.pixelShuffle(packedArray, f).toFloatArray(), 0f);
        // batch 2 keeps the images apart
        NDArray two = packedArray.concat(packedArray.mul(-1), 0);
        float[] got = Ops.pixelShuffle(two, f).toFloatArray();
        for (int k = 0; k < image.length; k++) {
            assertEquals(image[k], got[k], 0f);
            assertEquals(-image[k], got[image.length + k], 0f);
        }
    }
}
