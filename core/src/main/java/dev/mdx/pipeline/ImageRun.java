package dev.mdx.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.sampling.SamplerState;
import dev.mdx.sampling.SamplingPlan;
import dev.mdx.sampling.StepResult;
import dev.mdx.tensor.NoiseSource;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.text.TokenizedPrompt;
import dev.mdx.unet.GuidedDenoiser;
import dev.mdx.vae.AutoencoderKL;
import java.util.ArrayList;
import java.util.List;

/**
 * One generate call's sampling: the state its images share (the plan, the text features, the timings) and the loop
 * that denoises and decodes each image in its own memory scope, stepping the callback after every step.
 */
final class ImageRun {
    final GenerationPlan plan;
    final GenerationParameters used;
    final ModelVariant variant;
    final GuidedDenoiser denoiser;
    final SamplingPlan steps;
    /** (1, L, D) prompt features. */
    final NDArray cond;
    /** (1, L, D) negative-prompt features with classifier-free guidance, else null. */
    final NDArray uncond;
    final double[] scale;
    final Shape latentShape;
    final StepCallback callback;
    final PipelineTrace trace;
    final List<Double> unetMs = new ArrayList<>();
    double decodeMs;

ImageRun(GenerationPlan plan, GuidedDenoiser denoiser, NDList text, Shape latentShape, StepCallback callback,
            PipelineTrace trace) {
        this.plan = plan;
        this.used = plan.parameters();
        this.variant = plan.variant();
        this.denoiser = denoiser;
        this.steps = plan.samplingPlan();
        this.cond = text.get(0);
        this.uncond = text.size() > 1 ? text.get(1) : null;
        this.scale = new double[] {used.cfgScale()};
        this.latentShape = latentShape;
        this.callback = callback;
        this.trace = trace;
        trace.promptEmbeds(text.get(text.size() - 1));
    }

    /** Image k of the batch: its own noise source (seed + k), sampler state and memory scope. */
    RgbImage image(NDManager scope, int k, float[] givenNoise, List<RgbImage> done) {
        long seed = used.seedOf(k);
        NoiseSource noise = NoiseSource.seeded(seed);
        try (NDManager imageScope = scope.newSubManager(); SamplerState state = new SamplerState()) {
            NDArray standard = givenNoise != null ? imageScope.create(givenNoise, latentShape)
                    : noise.gaussian(imageScope, latentShape);
            NDArray latents = steps.initialSample(standard);
            for (int i = 0; i < steps.size(); i++) {
                NDArray previous = latents;
                boolean cancelled;
                try (NDManager stepScope = imageScope.newSubManager()) {
                    // everything computed from the latents and the text features is freed with the step
                    stepScope.tempAttachAll(latents, cond);
                    if (uncond != null) {
                        stepScope.tempAttachAll(uncond);
                    }
                    StepResult r = step(k, i, latents, noise, state);
                    requireFinite(r.prevSample(), k, i);
                    trace.latents(k, i, r.prevSample());
                    StepEvent event = new StepEvent(k, used.batchCount(), i, steps.size(), steps.timestep(i),
                            seed, unetMs.get(unetMs.size() - 1), r.denoised(),
                            x -> decodeLatents(variant, x));
                    try {
                        callback.onStep(event);
                    } finally {
                        event.close();
                    }
                    cancelled = event.cancelled();
                    latents = r.prevSample();
                    latents.attach(imageScope);
                }
                previous.close();
                if (cancelled) {
                    throw new GenerationCancelledException(done, k, used.batchCount(), i, steps.size());
                }
            }
            return decode(imageScope, k, latents);
        }
    }

    /** One guided UNet evaluation and one sampler step; results in the step scope. */
    private StepResult step(int k, int i, NDArray latents, NoiseSource noise, SamplerState state) {
        NDManager stepScope = latents.getManager();
        NDArray scaled = steps.scaleModelInput(i, latents);
        NDArray t = stepScope.create(new float[] {steps.timestep(i)});
        long unetStart = System.nanoTime();
        GuidedDenoiser.Prediction p = denoiser.predict(plan.guidance(), scaled, t, cond, uncond, scale, false);
        unetMs.add(millisSince(unetStart));
        trace.unetInput(k, i, p.input());
        trace.noisePrediction(k, i, p.unconditional(), p.conditional() != null ? p.conditional() : p.guided(),
                p.guided());
        return plan.sampler().step(steps, i, p.guided(), latents, noise, state);
    }

    /**
     * Stops a run whose latents hold NaN or infinity, which would decode to a black image. One sum over the
     * latents: it is finite exactly when every value is (short of a float overflow, itself a divergence).
     */
    private void requireFinite(NDArray latents, int k, int i) {
        float sum = latents.sum().getFloat();
        if (!Float.isFinite(sum)) {
            throw new NonFiniteValuesException("step " + (i + 1) + " of " + steps.size()
                    + (used.batchCount() > 1 ? " of image " + (k + 1) : "") + " (timestep "
                    + GenerationParameters.number(steps.timestep(i)) + ") produced NaN or infinite latents: the"
                    + " UNet's weights or the scheduler config hold unusable values, or the sampler diverged; no"
                    + " image was written");
        }
    }

    private RgbImage decode(NDManager imageScope, int k, NDArray latents) {
        long decodeStart = System.nanoTime();
        try (NDManager decodeScope = imageScope.newSubManager()) {
            decodeScope.tempAttachAll(latents);
            NDArray decoded = decodeLatents(variant, latents);
            if (!Float.isFinite(decoded.sum().getFloat())) {
                throw new NonFiniteValuesException("the VAE decoded image " + (k + 1) + " to NaN or infinite"
                        + " values: its weights hold unusable values; no image was written");
            }
            trace.decoded(k, decoded);
            RgbImage image = Images.toRgb(decoded).get(0);
            decodeMs += millisSince(decodeStart);
            return image;
        }
    }

    /** diffusers: vae.decode(latents / scaling_factor + shift_factor); the result is in the latents' manager. */
    /**
     * The text features in {@code scope}: {cond (1, L, D)}, or with classifier-free guidance {cond, uncond}, both
     * from one text-encoder batch of [negative, prompt].
     */
    static NDList encodeText(NDManager scope, ModelVariant variant, TokenizedPrompt prompt,
            TokenizedPrompt negative) {
        try (NDManager textScope = scope.newSubManager()) {
            List<TokenizedPrompt> rows = negative != null ? List.of(negative, prompt) : List.of(prompt);
            NDArray embeds = variant.textEncoder().forward(ClipTokenizer.inputIds(rows, textScope))
                    .lastHiddenState();
            NDList out = negative != null ? new NDList(embeds.get("1:2"), embeds.get("0:1"), embeds)
                    : new NDList(embeds);
            out.attach(scope);
            return out;
        }
    }

    static NDArray decodeLatents(ModelVariant variant, NDArray latents) {
        AutoencoderKL vae = variant.vae();
        NDArray z = latents.div((float) vae.scalingFactor());
        if (variant.config().vae().shiftFactor().isPresent()) {
            z = z.add((float) variant.config().vae().shiftFactor().getAsDouble());
        }
        return vae.decode(z);
    }

    private static double millisSince(long nanoStart) {
        return (System.nanoTime() - nanoStart) / 1e6;
    }
}
