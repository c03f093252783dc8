package dev.mdx.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * eps / v / x0 conversions against the defining relations x_t = alpha x0 + sigma eps, v = alpha eps - sigma x0,
 * computed in double, for signal levels from almost clean to almost pure noise, and round trips between them.
 */
class ParameterizationTest {
    private static final Shape SHAPE = new Shape(2, 4, 3, 3);
    /** About two float32 ulps at the largest magnitudes here (|x_t| < 5): the rounding of the stored inputs. */
    private static final double ROUNDING = 1e-6;

    @Test
    void conversionsMatchTheDefinitions() {
        SplittableRandom random = new SplittableRandom(11);
        int n = (int) SHAPE.size();
        double[] x0 = new double[n];
        double[] eps = new double[n];
        for (int i = 0; i < n; i++) {
            x0[i] = random.nextDouble(-1.5, 1.5);
            eps[i] = random.nextDouble(-3, 3);
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            for (float alphaCumprod : new float[] {0.99915f, 0.5f, 0.0047f}) {
                float alpha = Parameterization.alpha(alphaCumprod);
                float sigma = Parameterization.sigma(alphaCumprod);
                double[] x = new double[n];
                double[] v = new double[n];
                for (int i = 0; i < n; i++) {
                    x[i] = alpha * x0[i] + sigma * eps[i];
                    v[i] = alpha * eps[i] - sigma * x0[i];
                }
                NDArray tX0 = create(manager, x0);
                NDArray tEps = create(manager, eps);
                NDArray tX = create(manager, x);
                NDArray tV = create(manager, v);
                // dividing by alpha (sigma) amplifies float32 rounding of x by 1/alpha (1/sigma)
                double tolX0 = ROUNDING / alpha;
                double tolEps = ROUNDING / sigma;
                String at = "a_t = " + alphaCumprod;

                close(x0, Parameterization.toX0(PredictionType.EPSILON, tEps, tX, alpha, sigma), tolX0, at + " eps->x0");
                close(x0, Parameterization.toX0(PredictionType.V_PREDICTION, tV, tX, alpha, sigma), ROUNDING,
                        at + " v->x0");
                assertArrayEquals(tX0.toFloatArray(),
                        Parameterization.toX0(PredictionType.SAMPLE, tX0, tX, alpha, sigma).toFloatArray(), at);
                close(eps, Parameterization.toEpsilon(PredictionType.V_PREDICTION, tV, tX, alpha, sigma), ROUNDING,
                        at + " v->eps");
                close(eps, Parameterization.toEpsilon(PredictionType.SAMPLE, tX0, tX, alpha, sigma), tolEps,
                        at + " x0->eps");
                close(v, Parameterization.toV(PredictionType.EPSILON, tEps, tX, alpha, sigma), tolX0, at + " eps->v");
                close(v, Parameterization.toV(PredictionType.SAMPLE, tX0, tX, alpha, sigma), tolEps, at + " x0->v");

                // eps -> x0 -> eps and v -> eps -> x0 -> v
                NDArray x0FromEps = Parameterization.toX0(PredictionType.EPSILON, tEps, tX, alpha, sigma);
                close(eps, Parameterization.toEpsilon(PredictionType.SAMPLE, x0FromEps, tX, alpha, sigma),
                        tolX0 * alpha / sigma + tolEps, at + " eps round trip");
                NDArray epsFromV = Parameterization.toEpsilon(PredictionType.V_PREDICTION, tV, tX, alpha, sigma);
                NDArray x0FromV = Parameterization.toX0(PredictionType.EPSILON, epsFromV, tX, alpha, sigma);
                close(v, Parameterization.toV(PredictionType.SAMPLE, x0FromV, tX, alpha, sigma),
                        tolX0 + tolEps, at + " v round trip");
            }
        }
    }

    @Test
    void resultsLiveInTheSamplesManager() {
        try (NDManager a = NDManager.newBaseManager(); NDManager b = NDManager.newBaseManager()) {
            NDArray sample = a.ones(SHAPE);
            NDArray output = b.ones(SHAPE);
            for (PredictionType type : PredictionType.values()) {
                assertSame(a, Parameterization.toX0(type, output, sample, 0.6f, 0.8f).getManager(), type + " x0");
                assertSame(a, Parameterization.toEpsilon(type, output, sample, 0.6f, 0.8f).getManager(), type + " eps");
                assertSame(a, Parameterization.toV(type, output, sample, 0.6f, 0.8f).getManager(), type + " v");
            }
        }
    }

    private static NDArray create(NDManager manager, double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return manager.create(f, SHAPE);
    }

    private static void close(double[] expected, NDArray actual, double tol, String what) {
        float[] a = actual.toFloatArray();
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(expected[i] - a[i]));
        }
        System.out.printf("%s: max abs error %.3g (tol %.3g)%n", what, max, tol);
        assertTrue(max <= tol, what + ": max abs error " + max + " exceeds " + tol);
    }
}
