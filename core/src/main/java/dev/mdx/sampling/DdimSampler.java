package dev.mdx.sampling;

import static dev.mdx.sampling.Scalars.sqrt;

import ai.djl.ndarray.NDArray;
import dev.mdx.schedule.Parameterization;
import dev.mdx.schedule.ScheduleConfig;

/**
 * DDIM (Song et al. 2021, eq. 12) as diffusers' DDIMScheduler: x_{t'} = sqrt(a_{t'}) x0 + sqrt(1 - a_{t'} -
 * s^2) eps + s z with s = eta sqrt((1 - a_{t'}) / (1 - a_t) (1 - a_t / a_{t'})); eta = 0 is deterministic.
 */
public final class DdimSampler extends AbstractSampler {
    public DdimSampler(ScheduleConfig config, SamplerOptions options) {
        super(config, options);
    }

    @Override
    public SamplerKind kind() {
        return SamplerKind.DDIM;
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
        float alphaPrev = alphaCumprodOrFinal(prevT, true);
        float betaT = 1f - alphaT;
        float alpha = Parameterization.alpha(alphaT);
        float sigma = Parameterization.sigma(alphaT);

        // eps is taken before x0 is clipped, as diffusers does without use_clipped_model_output
        NDArray x0 = Parameterization.toX0(config.predictionType(), modelOutput, sample, alpha, sigma);
        NDArray eps = Parameterization.toEpsilon(config.predictionType(), modelOutput, sample, alpha, sigma);
        x0 = clip(x0, true);

        float betaPrev = 1f - alphaPrev;
        float variance = (betaPrev / betaT) * (1f - alphaT / alphaPrev);
        float std = (float) options.eta() * sqrt(variance);
        NDArray direction = eps.mul(sqrt(1f - alphaPrev - std * std));
        NDArray prev = x0.mul(sqrt(alphaPrev)).add(direction);
        if (options.eta() > 0) {
            prev = prev.add(noise.next().mul(std));
        }
        return new StepResult(prev, x0);
    }
}
