package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import dev.mdx.sampling.Sampler;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.sampling.SamplerState;
import dev.mdx.sampling.SamplingPlan;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.unet.Guidance;
import dev.mdx.unet.GuidedDenoiser;
import dev.mdx.unet.UNet2DConditionModel;
import java.util.Arrays;

/**
 * A frozen model's DDIM sample from a given noisy latent, taken as it samples at inference: the latent is the run's
 * initial sample (as pure noise is), then {@code steps} DDIM steps (eta 0) guided at {@code guidanceScale}. UFOGen
 * regresses its one-step examples to these samples instead of the data: from the same x_T the teacher's sample is
 * one sharp image, where the data's conditional mean is a blur.
 */
final class TeacherSampler {
    private final GuidedDenoiser denoiser;
    private final Sampler sampler;
    private final int steps;
    private final double guidanceScale;
    private final Guidance guidance;

    /**
     * @param unet the teacher's UNet, whose weights require no gradient
     * @param schedule the teacher's scheduler config (its prediction type, spacing and betas)
     */
    TeacherSampler(UNet2DConditionModel unet, ScheduleConfig schedule, int steps, double guidanceScale) {
        if (steps < 1) {
            throw new IllegalArgumentException("teacher_steps must be at least 1, got " + steps);
        }
        if (!(guidanceScale >= 0) || Double.isInfinite(guidanceScale)) {
            throw new IllegalArgumentException("teacher_guidance_scale must be a number >= 0, got " + guidanceScale);
        }
        this.denoiser = new GuidedDenoiser(unet);
        this.sampler = SamplerKind.DDIM.create(schedule);
        this.steps = steps;
        this.guidanceScale = guidanceScale;
        this.guidance = denoiser.guidanceAt(guidanceScale);
    }

    /** Whether {@link #sample} needs the unconditional text features. */
    boolean needsUnconditional() {
        return guidance.needsUnconditional();
    }

    /**
     * The teacher's clean sample for each start latent, in the manager of {@code start}, cut from any gradient.
     *
     * @param start (B, C, h, w) the initial samples
     * @param cond (B, L, D) prompt features
     * @param uncond (B, L, D) empty-prompt features when {@link #needsUnconditional}, else null
     */
    NDArray sample(NDArray start, NDArray cond, NDArray uncond) {
        int batch = Math.toIntExact(start.getShape().get(0));
        double[] scales = new double[batch];
        Arrays.fill(scales, guidanceScale);
        SamplingPlan plan = sampler.plan(steps);
        NDArray x = start.stopGradient();
        try (SamplerState state = new SamplerState()) {
            for (int i = 0; i < plan.size(); i++) {
                NDArray t = start.getManager().create(new float[] {plan.timestep(i)});
                NDArray out = denoiser.predict(guidance, plan.scaleModelInput(i, x), t, cond, uncond, scales, false)
                        .guided();
                x = sampler.step(plan, i, out, x, null, state).prevSample();
            }
        }
        return x.stopGradient();
    }
}
