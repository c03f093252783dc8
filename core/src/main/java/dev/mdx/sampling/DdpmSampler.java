package dev.mdx.sampling;

import static dev.mdx.sampling.Scalars.sqrt;

import ai.djl.ndarray.NDArray;
import dev.mdx.schedule.ScheduleConfig;

/**
 * Ancestral DDPM sampling (Ho et al. 2020, eq. 6-7) on a strided grid, as diffusers' DDPMScheduler: the posterior
 * mean of q(x_{t'} | x_t, x0) plus its fixed variance times fresh noise, except at t = 0.
 */
public final class DdpmSampler extends AbstractSampler {
    private static final float MIN_VARIANCE = 1e-20f;

    public DdpmSampler(ScheduleConfig config, SamplerOptions options) {
        super(config, options);
    }

    @Override
    public SamplerKind kind() {
        return SamplerKind.DDPM;
    }

    @Override
    public SamplingPlan plan(int steps) {
        return discretePlan(steps);
    }

    @Override
    protected StepResult compute(SamplingPlan plan, int index, NDArray modelOutput, NDArray sample, Draw noise,
            SamplerState state) {
        int t = plan.discreteTimestep(index);
        int prevT = t - schedule.numTrainTimesteps() / plan.size();
        float alphaT = schedule.alphaCumprod(t);
        float alphaPrev = prevT >= 0 ? schedule.alphaCumprod(prevT) : 1f;
        float betaT = 1f - alphaT;
        float betaPrev = 1f - alphaPrev;
        float currentAlpha = alphaT / alphaPrev;
        float currentBeta = 1f - currentAlpha;

        NDArray x0 = predictX0(modelOutput, sample, alphaT, true);
        // posterior mean coefficients, eq. 7
        float x0Coeff = (sqrt(alphaPrev) * currentBeta) / betaT;
        float sampleCoeff = sqrt(currentAlpha) * betaPrev / betaT;
        NDArray prev = x0.mul(x0Coeff).add(sample.mul(sampleCoeff));
        if (t > 0) {
            float variance = Math.max((1f - alphaPrev) / (1f - alphaT) * currentBeta, MIN_VARIANCE);
            float std = switch (options.varianceType()) {
                case FIXED_SMALL -> sqrt(variance);
                case FIXED_SMALL_LOG -> Scalars.exp(0.5f * Scalars.log(variance));
            };
            prev = prev.add(noise.next().mul(std));
        }
        return new StepResult(prev, x0);
    }
}
