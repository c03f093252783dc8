package dev.mdx.sampling;

import static dev.mdx.sampling.Scalars.sqrt;

import ai.djl.ndarray.NDArray;
import dev.mdx.schedule.ScheduleConfig;

/**
 * Ancestral Euler (k-diffusion's sample_euler_ancestral, diffusers' EulerAncestralDiscreteScheduler): an Euler step
 * down to sigma_down, then fresh noise of size sigma_up, with sigma_down^2 + sigma_up^2 = sigma_next^2. Draws noise
 * on every step (zero-scaled on the last), like diffusers.
 */
public final class EulerAncestralSampler extends AbstractEulerSampler {
    public EulerAncestralSampler(ScheduleConfig config, SamplerOptions options) {
        super(config, options);
    }

    @Override
    public SamplerKind kind() {
        return SamplerKind.EULER_ANCESTRAL;
    }

    @Override
    protected StepResult compute(SamplingPlan plan, int index, NDArray modelOutput, NDArray sample, Draw noise,
            SamplerState state) {
        float from = plan.sigma(index);
        float to = plan.sigma(index + 1);
        float up = sqrt(to * to * (from * from - to * to) / (from * from));
        float down = sqrt(to * to - up * up);

        NDArray x0 = predictX0(modelOutput, sample, from);
        NDArray derivative = sample.sub(x0).div(from);
        NDArray prev = sample.add(derivative.mul(down - from));
        prev = prev.add(noise.next().mul(up));
        return new StepResult(prev, x0);
    }
}
