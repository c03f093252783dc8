package dev.mdx.train.unet;

import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.train.Rng;

/**
 * How much of the denoising objective sits at high noise: a share of each batch's timesteps drawn from
 * [highFrom, N) instead of [0, N), and a per-example loss weight clamp((1 - a_t) / a_t, 1, x0WeightCap), the factor
 * by which an epsilon error at t becomes an x0 error (capped). A one-step student maps pure noise (t = 999) to the
 * image, where the plain epsilon loss says almost nothing about the image (a_999 ~ 0.005): a LoRA meant to carry
 * over to it must learn its change there.
 *
 * @param highShare the share of timesteps drawn from [highFrom, N), 0 for uniform over [0, N)
 * @param highFrom the first timestep of the high-noise range
 * @param x0WeightCap the largest loss weight; 1 weights every example alike (the plain objective)
 */
record NoiseEmphasis(double highShare, int highFrom, double x0WeightCap) {
    /** The plain objective: t uniform, every example weighted 1. */
    static final NoiseEmphasis NONE = new NoiseEmphasis(0, 0, 1);

    /**
     * A share of the timesteps at t = N-1, where one-step sampling starts (UFOGen's {@code one_step_fraction});
     * with 0 the draws are exactly the uniform ones.
     */
    static NoiseEmphasis atLastStep(double share) {
        return new NoiseEmphasis(share, Integer.MAX_VALUE, 1);
    }

    NoiseEmphasis {
        if (!(highShare >= 0 && highShare <= 1)) {
            throw new IllegalArgumentException("high_noise_share must be in [0, 1], got " + highShare);
        }
        if (!(x0WeightCap >= 1) || Double.isInfinite(x0WeightCap)) {
            throw new IllegalArgumentException("x0_weight_cap must be a number >= 1, got " + x0WeightCap);
        }
    }

    /** A timestep in [minT, steps): from the high-noise range with probability highShare. */
    int draw(Rng rng, int minT, int steps) {
        int from = Math.max(minT, Math.min(highFrom, steps - 1));
        if (highShare > 0 && rng.nextDouble() < highShare) {
            // a one-timestep range needs no draw
            return steps - from == 1 ? from : from + rng.nextInt(steps - from);
        }
        return minT + rng.nextInt(steps - minT);
    }

    boolean weighted() {
        return x0WeightCap > 1;
    }

    /** The loss weight of an example at timestep t. */
    float weight(NoiseSchedule schedule, int t) {
        double a = schedule.alphaCumprod(t);
        return (float) Math.min(Math.max((1 - a) / a, 1), x0WeightCap);
    }
}
