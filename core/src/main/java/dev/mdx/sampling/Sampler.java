package dev.mdx.sampling;

import ai.djl.ndarray.NDArray;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.tensor.NoiseSource;

/**
 * A stateless sampler: immutable after construction, so one instance serves concurrent runs. Each run asks for a
 * {@link SamplingPlan} and then calls {@link #step} once per planned step, in order, with its own
 * {@link SamplerState} and {@link NoiseSource}:
 *
 * <pre>
 *   plan = sampler.plan(steps);  x = plan.initialSample(noise.gaussian(m, shape));
 *   for i in 0..plan.size()-1:
 *       eps = model(plan.scaleModelInput(i, x), plan.timestep(i));
 *       x = sampler.step(plan, i, eps, x, noise, state).prevSample();
 * </pre>
 */
public interface Sampler {
    SamplerKind kind();

    NoiseSchedule schedule();

    /** The plan of a run of {@code steps} model evaluations. */
    SamplingPlan plan(int steps);

    /**
     * Where an image-to-image run at {@code strength} starts (diffusers' StableDiffusionImg2ImgPipeline): the full
     * plan of {@code steps} steps, entered at step {@code n - min(int(n * strength), n)}, the product taken in
     * double and truncated as Python's {@code int()}; strength 0 runs no step.
     */
    default EditStart planEdit(int steps, double strength) {
        SamplingPlan plan = plan(steps);
        int init = Math.min((int) (steps * strength), steps);
        return new EditStart(plan, steps - init);
    }

    /**
     * The sample of step {@code index} for a clean sample x0 and standard-normal noise (diffusers' scheduler
     * {@code add_noise} at that step's timestep), a new array in the manager of x0.
     */
    NDArray addNoise(SamplingPlan plan, int index, NDArray x0, NDArray noise);

    /**
     * Step {@code index} of a run: from the model output at the planned timestep and the current sample, the sample
     * of the next step and the current estimate of the clean sample. The results are new arrays in the manager of
     * {@code sample}; the inputs are left as they were. {@code noise} may be null for samplers that draw none
     * (DDIM with eta 0, Euler, DPM-Solver++).
     */
    StepResult step(SamplingPlan plan, int index, NDArray modelOutput, NDArray sample, NoiseSource noise,
            SamplerState state);
}
