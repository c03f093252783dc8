package dev.mdx.schedule;

import java.util.List;

/** The beta schedules of diffusers, as float32 arrays rounded the way torch rounds them. */
final class Betas {
    private static final double COSINE_MAX_BETA = 0.999;
    private static final double COSINE_OFFSET = 0.008;
    private static final double SIGMOID_RANGE = 6.0;

    private Betas() {}

    static float[] of(ScheduleConfig c) {
        int n = c.numTrainTimesteps();
        float[] betas;
        if (!c.trainedBetas().isEmpty()) {
            betas = trained(c.trainedBetas());
        } else {
            betas = switch (c.betaSchedule()) {
                case LINEAR -> TorchFloat32.linspace(c.betaStart(), c.betaEnd(), n);
                case SCALED_LINEAR ->
                        square(TorchFloat32.linspace(Math.sqrt(c.betaStart()), Math.sqrt(c.betaEnd()), n));
                case SQUAREDCOS_CAP_V2 -> cosine(n);
                case SIGMOID -> sigmoid(c.betaStart(), c.betaEnd(), n);
            };
        }
        for (int t = 0; t < n; t++) {
            if (!(betas[t] >= 0 && betas[t] < 1)) {
                throw new IllegalArgumentException("beta_start/beta_end (" + c.betaStart() + ", " + c.betaEnd()
                        + ") with beta_schedule " + c.betaSchedule().jsonName() + " give beta[" + t + "] = "
                        + betas[t] + "; betas must lie in [0, 1)");
            }
        }
        return betas;
    }

    private static float[] square(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * x[i];
        }
        return out;
    }

    /** Nichol and Dhariwal's cosine schedule: beta_i = min(1 - abar((i+1)/n) / abar(i/n), 0.999), in double. */
    private static float[] cosine(int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double t1 = (double) i / n;
            double t2 = (double) (i + 1) / n;
            out[i] = (float) Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), COSINE_MAX_BETA);
        }
        return out;
    }

    private static double cosineAlphaBar(double t) {
        double c = Math.cos((t + COSINE_OFFSET) / (1 + COSINE_OFFSET) * Math.PI / 2);
        return c * c;
    }

    private static float[] sigmoid(double start, double end, int n) {
        float[] x = TorchFloat32.linspace(-SIGMOID_RANGE, SIGMOID_RANGE, n);
        float scale = (float) (end - start);
        float shift = (float) start;
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            float s = (float) (1.0 / (1.0 + Math.exp(-x[i])));
            out[i] = s * scale + shift;
        }
        return out;
    }

    private static float[] trained(List<Double> betas) {
        float[] out = new float[betas.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = betas.get(i).floatValue();
        }
        return out;
    }

    /**
     * Algorithm 1 of "Common Diffusion Noise Schedules and Sample Steps are Flawed" (arXiv 2305.08891): shift and
     * scale sqrt(a_t) so the last timestep has zero signal and the first keeps its value, in float32 like diffusers.
     */
    static float[] rescaleZeroTerminalSnr(float[] betas) {
        int n = betas.length;
        float[] alphas = new float[n];
        for (int i = 0; i < n; i++) {
            alphas[i] = 1f - betas[i];
        }
        float[] sqrtBar = TorchFloat32.cumprod(alphas);
        for (int i = 0; i < n; i++) {
            sqrtBar[i] = TorchFloat32.sqrt(sqrtBar[i]);
        }
        float first = sqrtBar[0];
        float last = sqrtBar[n - 1];
        float scale = first / (first - last);
        float[] bar = new float[n];
        for (int i = 0; i < n; i++) {
            float shifted = (sqrtBar[i] - last) * scale;
            bar[i] = shifted * shifted;
        }
        float[] out = new float[n];
        out[0] = 1f - bar[0];
        for (int i = 1; i < n; i++) {
            out[i] = 1f - bar[i] / bar[i - 1];
        }
        return out;
    }
}
