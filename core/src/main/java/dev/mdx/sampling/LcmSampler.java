package dev.mdx.sampling;

import static dev.mdx.sampling.Scalars.sqrt;

import ai.djl.ndarray.NDArray;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.schedule.TimestepGrid;

/**
 * Latent Consistency Model multistep sampling (Luo et al. 2023, Algorithm 1) as diffusers' LCMScheduler: the
 * consistency function c_skip(t) x_t + c_out(t) x0(x_t, t) gives the denoised sample, which is re-noised to the next
 * planned timestep with fresh noise (no noise after the last step).
 */
public final class LcmSampler extends AbstractSampler {
    /** sigma_data of the consistency-model boundary condition (Song et al. 2023). */
    private static final float SIGMA_DATA = 0.5f;

    public LcmSampler(ScheduleConfig config, SamplerOptions options) {
        super(config, options);
    }

    @Override
    public SamplerKind kind() {
        return SamplerKind.LCM;
    }

    @Override
    public SamplingPlan plan(int steps) {
        int[] t = TimestepGrid.lcm(steps, schedule.numTrainTimesteps(), options.originalInferenceSteps());
        return new SamplingPlan(this, toFloats(t), null, 1f, ones(t.length));
    }

    @Override
    protected StepResult compute(SamplingPlan plan, int index, NDArray modelOutput, NDArray sample, Draw noise,
            SamplerState state) {
        int t = plan.discreteTimestep(index);
        boolean last = index == plan.size() - 1;
        int prevT = last ? t : plan.discreteTimestep(index + 1);
        float alphaT = schedule.alphaCumprod(t);
        float alphaPrev = alphaCumprodOrFinal(prevT, true);

        float scaled = (float) t * (float) options.timestepScaling();
        float dataVar = SIGMA_DATA * SIGMA_DATA;
        float cSkip = dataVar / (scaled * scaled + dataVar);
        float cOut = scaled / sqrt(scaled * scaled + dataVar);

        NDArray x0 = predictX0(modelOutput, sample, alphaT, false);
        NDArray denoised = x0.mul(cOut).add(sample.mul(cSkip));
        NDArray prev = last
                ? denoised.duplicate()
                : denoised.mul(sqrt(alphaPrev)).add(noise.next().mul(sqrt(1f - alphaPrev)));
        return new StepResult(prev, denoised);
    }
}
