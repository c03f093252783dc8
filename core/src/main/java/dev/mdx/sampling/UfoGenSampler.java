package dev.mdx.sampling;

import static dev.mdx.sampling.Scalars.sqrt;

import ai.djl.ndarray.NDArray;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.schedule.TimestepGrid;
import dev.mdx.schedule.TimestepSpacing;

/**
 * UFOGen sampling (Xu et al. 2023, arXiv 2311.09257; diffusers' UFOGenScheduler): predict x0 at t; unless this is
 * the last step, re-noise it with the forward marginal x_{t'} = sqrt(a_{t'}) x0 + sqrt(1 - a_{t'}) z (not the DDPM
 * posterior); the last step returns x0 without noise. One step runs the generator once at t = N - 1.
 *
 * <p>Timesteps always use trailing spacing (starting at N - 1), whatever the config's timestep_spacing: the model
 * starts from pure noise, and diffusers' one-step special case (t = N - 1) is trailing spacing for n = 1.
 */
public final class UfoGenSampler extends AbstractSampler {
    public UfoGenSampler(ScheduleConfig config, SamplerOptions options) {
        super(config, options);
    }

    @Override
    public SamplerKind kind() {
        return SamplerKind.UFOGEN;
    }

    @Override
    public SamplingPlan plan(int steps) {
        int[] t = TimestepGrid.discrete(TimestepSpacing.TRAILING, steps, schedule.numTrainTimesteps(), 0);
        return new SamplingPlan(this, toFloats(t), null, 1f, ones(t.length));
    }

    /**
     * Image to image: the encoded image is noised to t0 = round(strength (N - 1)) and the student denoises from there
     * in {@code steps} steps on the trailing grid scaled to t0 (strength 1 is the text-to-image plan). Strength 0
     * runs no step.
     */
    @Override
    public EditStart planEdit(int steps, double strength) {
        if (strength == 0) {
            return new EditStart(plan(steps), steps);
        }
        int t0 = (int) Math.round(strength * (schedule.numTrainTimesteps() - 1));
        int[] t = new int[steps];
        for (int i = 0; i < steps; i++) {
            t[i] = Math.max(0, (int) Math.round((t0 + 1.0) * (steps - i) / steps) - 1);
        }
        return new EditStart(new SamplingPlan(this, toFloats(t), null, 1f, ones(steps)), 0);
    }

    @Override
    protected StepResult compute(SamplingPlan plan, int index, NDArray modelOutput, NDArray sample, Draw noise,
            SamplerState state) {
        int t = plan.discreteTimestep(index);
        NDArray x0 = predictX0(modelOutput, sample, schedule.alphaCumprod(t), true);
        if (index == plan.size() - 1) {
            return new StepResult(x0.duplicate(), x0);
        }
        // the next planned timestep: t - N / n on the trailing grid, and the grid of an edit's plan too
        int prevT = plan.discreteTimestep(index + 1);
        float alphaPrev = alphaCumprodOrFinal(prevT, true);
        NDArray prev = x0.mul(sqrt(alphaPrev)).add(noise.next().mul(sqrt(1f - alphaPrev)));
        return new StepResult(prev, x0);
    }
}
