package dev.mdx.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.JsonConfig;
import dev.mdx.schedule.PredictionType;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.schedule.TimestepSpacing;
import dev.mdx.tensor.NoiseSource;
import dev.mdx.tensor.SeededNoiseSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * UFOGen sampling (paper notes 7.4) against its closed form in plain double arithmetic: one step at t = 999 returns
 * the predicted x0 with no noise; n steps re-noise x0 to the next trailing timestep with the forward marginal
 * sqrt(a') x0 + sqrt(1 - a') z and return the last x0. The schedule is recomputed here in double, independently.
 */
class UfoGenSamplerTest {
    private static final Shape SHAPE = new Shape(1, 4, 4, 4);
    private static final int N = 1000;
    private static final double BETA_START = 0.00085;
    private static final double BETA_END = 0.012;
    private static final double ATOL = 5e-5;

    /** SD-1.5's scaled_linear schedule, as the golden's base config. */
    private static ScheduleConfig config(PredictionType type, boolean clip) {
        return ScheduleConfig.parse(JsonConfig.parse("ufogen", "{\"beta_schedule\": \"scaled_linear\", \"beta_start\": "
                + BETA_START + ", \"beta_end\": " + BETA_END + ", \"prediction_type\": \"" + type.jsonName()
                + "\", \"clip_sample\": " + clip + "}"));
    }

    /** a_t in double: betas = linspace(sqrt(b0), sqrt(b1), N)^2, a_t = prod (1 - beta). */
    private static double[] alphasCumprod() {
        double[] out = new double[N];
        double s0 = Math.sqrt(BETA_START);
        double s1 = Math.sqrt(BETA_END);
        double acc = 1;
        for (int i = 0; i < N; i++) {
            double s = s0 + (s1 - s0) * i / (N - 1);
            acc *= 1 - s * s;
            out[i] = acc;
        }
        return out;
    }

    /** A fixed fake generator: out[j] = 0.6 x[j] + 0.4 sin(0.37 (j + 1) + 0.0071 t). */
    private static double model(double x, int j, double t) {
        return 0.6 * x + 0.4 * Math.sin(0.37 * (j + 1) + 0.0071 * t);
    }

    private static NDArray model(NDArray x, double t) {
        float[] v = x.toFloatArray();
        float[] out = new float[v.length];
        for (int j = 0; j < v.length; j++) {
            out[j] = (float) model(v[j], j, t);
        }
        return x.getManager().create(out, x.getShape());
    }

    @Test
    void oneStepAt999ReturnsPredictedX0WithoutNoise() {
        for (PredictionType type : new PredictionType[] {PredictionType.EPSILON, PredictionType.V_PREDICTION}) {
            for (boolean clip : new boolean[] {false, true}) {
                double err = run(config(type, clip), type, clip, 1, new int[] {999});
                System.out.printf("UFOGen 1 step, %s, clip %s: max abs error vs closed form %.3g%n", type, clip, err);
            }
        }
    }

    @Test
    void multiStepRenoisesWithTheForwardMarginal() {
        run(config(PredictionType.EPSILON, false), PredictionType.EPSILON, false, 2, new int[] {999, 499});
        for (PredictionType type : new PredictionType[] {PredictionType.EPSILON, PredictionType.V_PREDICTION}) {
            double err = run(config(type, false), type, false, 4, new int[] {999, 749, 499, 249});
            System.out.printf("UFOGen 4 steps, %s: max abs error vs closed form %.3g%n", type, err);
        }
        double err = run(config(PredictionType.EPSILON, true), PredictionType.EPSILON, true, 8,
                new int[] {999, 874, 749, 624, 499, 374, 249, 124});
        System.out.printf("UFOGen 8 steps, epsilon, clip: max abs error vs closed form %.3g%n", err);
    }

    @Test
    void timestepsAreTrailingWhateverTheConfigSays() {
        ScheduleConfig leading = config(PredictionType.EPSILON, false)
                .withTimestepSpacing(TimestepSpacing.LEADING);
        Sampler sampler = SamplerKind.UFOGEN.create(leading);
        assertArrayEquals(new float[] {999}, sampler.plan(1).timesteps());
        assertArrayEquals(new float[] {999, 666, 332}, sampler.plan(3).timesteps());
    }

    /** Runs the sampler and the closed form side by side and returns the max abs error of the final sample. */
    private static double run(ScheduleConfig config, PredictionType type, boolean clip, int steps, int[] expectedT) {
        double[] a = alphasCumprod();
        Sampler sampler = SamplerKind.UFOGEN.create(config);
        SamplingPlan plan = sampler.plan(steps);
        float[] expectedTimesteps = new float[expectedT.length];
        for (int i = 0; i < expectedT.length; i++) {
            expectedTimesteps[i] = expectedT[i];
        }
        assertArrayEquals(expectedTimesteps, plan.timesteps(), "timesteps");
        assertEquals(1f, plan.initNoiseSigma());
        try (NDManager manager = NDManager.newBaseManager(); SamplerState state = new SamplerState()) {
            RecordingNoise noise = new RecordingNoise(new SeededNoiseSource(42));
            NDArray sample = plan.initialSample(NoiseSource.seeded(7).gaussian(manager, SHAPE));
            double[] x = toDouble(sample.toFloatArray());
            double maxErr = 0;
            for (int i = 0; i < steps; i++) {
                int t = expectedT[i];
                NDArray out = model(plan.scaleModelInput(i, sample), t);
                StepResult r = sampler.step(plan, i, out, sample, noise, state);

                // closed form: x0 from the prediction, then the forward marginal to t' = t - N / n, or x0 at the end
                double alpha = Math.sqrt(a[t]);
                double sigma = Math.sqrt(1 - a[t]);
                double[] x0 = new double[x.length];
                for (int j = 0; j < x.length; j++) {
                    double m = model(x[j], j, t);
                    x0[j] = type == PredictionType.EPSILON ? (x[j] - sigma * m) / alpha : alpha * x[j] - sigma * m;
                    if (clip) {
                        x0[j] = Math.max(-1, Math.min(1, x0[j]));
                    }
                }
                boolean last = i == steps - 1;
                assertEquals(last ? i : i + 1, noise.draws.size(), "noise draws after step " + i);
                double[] next = x0.clone();
                if (!last) {
                    double ap = a[t - N / steps];
                    float[] z = noise.draws.get(i);
                    for (int j = 0; j < x.length; j++) {
                        next[j] = Math.sqrt(ap) * x0[j] + Math.sqrt(1 - ap) * z[j];
                    }
                }
                maxErr = Math.max(maxErr, maxAbs(x0, r.denoised().toFloatArray()));
                maxErr = Math.max(maxErr, maxAbs(next, r.prevSample().toFloatArray()));
                // follow the float trajectory so that the closed form checks each step, not accumulated drift
                x = toDouble(r.prevSample().toFloatArray());
                sample = r.prevSample();
            }
            if (clip) {
                for (float v : sample.toFloatArray()) {
                    assertTrue(v >= -1 && v <= 1, "clipped output in [-1, 1]: " + v);
                }
            }
            assertTrue(maxErr <= ATOL, "max abs error " + maxErr + " exceeds " + ATOL);
            return maxErr;
        }
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private static double maxAbs(double[] expected, float[] actual) {
        double max = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = Math.abs(expected[i] - actual[i]);
            max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(max, d);
        }
        return max;
    }

    /** Passes draws through and remembers them, so the closed form can use the same noise. */
    private static final class RecordingNoise implements NoiseSource {
        final List<float[]> draws = new ArrayList<>();
        private final NoiseSource inner;

        RecordingNoise(NoiseSource inner) {
            this.inner = inner;
        }

        @Override
        public NDArray gaussian(NDManager manager, Shape shape) {
            NDArray z = inner.gaussian(manager, shape);
            if (!shape.equals(SHAPE)) {
                fail("noise of shape " + shape);
            }
            draws.add(z.toFloatArray());
            return z;
        }
    }
}
