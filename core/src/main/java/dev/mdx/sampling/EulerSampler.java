package dev.mdx.sampling;

import ai.djl.ndarray.NDArray;
import dev.mdx.schedule.ScheduleConfig;

/**
 * Euler's method on the probability-flow ODE dx/dsigma = (x - x0) / sigma (Karras et al. 2022, Algorithm 1 without
 * churn), as diffusers' EulerDiscreteScheduler with s_churn = 0.
 */
public final class EulerSampler extends AbstractEulerSampler {
    public EulerSampler(ScheduleConfig config, SamplerOptions options) {
        super(config, options);
    }

    @Override
    public SamplerKind kind() {
        return SamplerKind.EULER;
    }

    @Override
    protected StepResult compute(SamplingPlan plan, int index, NDArray modelOutput, NDArray sample, Draw noise,
            SamplerState state) {
        float sigma = plan.sigma(index);
        NDArray x0 = predictX0(modelOutput, sample, sigma);
        NDArray derivative = sample.sub(x0).div(sigma);
        float dt = plan.sigma(index + 1) - sigma;
        NDArray prev = sample.add(derivative.mul(dt));
        return new StepResult(prev, x0);
    }
}
