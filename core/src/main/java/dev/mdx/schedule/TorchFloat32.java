package dev.mdx.schedule;

/**
 * The few PyTorch CPU float32 kernels whose exact rounding decides betas and alphas_cumprod, reproduced so that our
 * schedule is bit-identical to the one diffusers builds (checked against the golden's stored arrays).
 */
final class TorchFloat32 {
    /** Lanes of the AVX2 {@code Vectorized<float>} the linspace kernel writes per vector op. */
    private static final int LANES = 8;

    private TorchFloat32() {}

    /**
     * {@code torch.linspace(start, end, steps, dtype=float32)} as the CPU kernel computes it: the first half counts up
     * from start, the second half down from end (each with one fused multiply-add), and inside each 8-lane vector the
     * lanes are base + k * step. The vectorized loop covers whole pairs of vectors; the rest goes element by element.
     */
    static float[] linspace(double startValue, double endValue, int steps) {
        float[] out = new float[steps];
        float start = (float) startValue;
        float end = (float) endValue;
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        int vectorized = steps - steps % (2 * LANES);
        for (int i = 0; i < vectorized; i += LANES) {
            float base = element(i, start, end, step, steps, halfway);
            for (int k = 0; k < LANES; k++) {
                out[i + k] = base + k * step;
            }
        }
        for (int i = vectorized; i < steps; i++) {
            out[i] = element(i, start, end, step, steps, halfway);
        }
        return out;
    }

    private static float element(int idx, float start, float end, float step, int steps, int halfway) {
        return idx < halfway ? Math.fma(step, (float) idx, start) : Math.fma(-step, (float) (steps - idx - 1), end);
    }

    /** {@code torch.cumprod} of a float32 vector on CPU: the running product is kept in double, each output rounded. */
    static float[] cumprod(float[] x) {
        float[] out = new float[x.length];
        double acc = 1.0;
        for (int i = 0; i < x.length; i++) {
            acc *= x[i];
            out[i] = (float) acc;
        }
        return out;
    }

    /** sqrt of a float32 value, correctly rounded like torch's {@code ** 0.5} / {@code sqrt()}. */
    static float sqrt(float x) {
        return (float) Math.sqrt(x);
    }
}
