package dev.mdx.sampling;

import static dev.mdx.sampling.Scalars.sqrt;

import ai.djl.ndarray.NDArray;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.schedule.Sigmas;
import dev.mdx.schedule.TimestepGrid;
import dev.mdx.schedule.TimestepSpacing;

/**
 * The sigma-space (variance exploding) view shared by the Euler samplers of k-diffusion / diffusers: the sample is
 * x = x0 + sigma eps, the model sees x / sqrt(sigma^2 + 1), sigmas are read off the training schedule at the
 * timesteps (or Karras-spaced) and end with 0.
 */
abstract class AbstractEulerSampler extends AbstractSampler {
    AbstractEulerSampler(ScheduleConfig config, SamplerOptions options) {
        super(config, options);
    }

    @Override
    public SamplingPlan plan(int steps) {
        int numTrain = schedule.numTrainTimesteps();
        TimestepSpacing spacing = config.spacingOr(TimestepSpacing.LINSPACE);
        float[] timesteps = spacing == TimestepSpacing.LINSPACE
                ? TimestepGrid.linspaceFloat(steps, numTrain)
                : toFloats(TimestepGrid.discrete(spacing, steps, numTrain, config.stepsOffset()));
        double[] t = new double[steps];
        for (int i = 0; i < steps; i++) {
            t[i] = timesteps[i];
        }
        double[] sig = Sigmas.atTimesteps(schedule, t);
        if (config.useKarrasSigmas()) {
            sig = Sigmas.karras(config.sigmaMin().orElse(sig[steps - 1]), config.sigmaMax().orElse(sig[0]), steps);
            for (int i = 0; i < steps; i++) {
                timesteps[i] = (float) schedule.sigmaToTimestep(sig[i]);
            }
        }
        float[] sigmas = new float[steps + 1];
        float max = 0f;
        for (int i = 0; i < steps; i++) {
            sigmas[i] = (float) sig[i];
            max = Math.max(max, sigmas[i]);
        }
        float[] divisors = new float[steps];
        for (int i = 0; i < steps; i++) {
            divisors[i] = sqrt(sigmas[i] * sigmas[i] + 1f);
        }
        // diffusers: the initial noise is sigma_max for linspace/trailing grids, sqrt(sigma_max^2 + 1) for leading
        float init = spacing == TimestepSpacing.LEADING ? sqrt(max * max + 1f) : max;
        return new SamplingPlan(this, timesteps, sigmas, init, divisors);
    }

    /** The unscaled sample x = x0 + sigma noise, as EulerDiscreteScheduler.add_noise. */
    @Override
    public NDArray addNoise(SamplingPlan plan, int index, NDArray x0, NDArray noise) {
        return x0.add(noise.mul(plan.sigma(index)));
    }

    /** x0 from the model output for the unscaled sample x = x0 + sigma eps. */
    protected NDArray predictX0(NDArray modelOutput, NDArray sample, float sigma) {
        return switch (config.predictionType()) {
            case EPSILON -> sample.sub(modelOutput.mul(sigma));
            case V_PREDICTION -> {
                float s2 = sigma * sigma + 1f;
                NDArray a = modelOutput.mul(-sigma / sqrt(s2));
                yield a.add(sample.div(s2));
            }
            case SAMPLE -> modelOutput.duplicate();
        };
    }
}
