package dev.mdx.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.sampling.SamplerState;
import dev.mdx.sampling.SamplingPlan;
import dev.mdx.sampling.StepResult;
import dev.mdx.tensor.NoiseSource;
import dev.mdx.prompt.ChunkedPrompt;
import dev.mdx.prompt.PromptEncoder;
import dev.mdx.unet.ControlResiduals;
import dev.mdx.unet.GuidedDenoiser;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.LatentDistribution;
import dev.mdx.vae.VaeTiling;
import java.util.ArrayList;
import java.util.List;

/**
 * One generate call's sampling: the state its images share (the plan, the text features, an edited image's
 * encoding, the timings) and the loop that denoises and decodes each image in its own memory scope, stepping the
 * callback after every step.
 *
 * <p>Each image draws from its own seed, in this order: the starting noise, then (editing) the noise of the init
 * image's posterior sample, then (inpainting UNet) the masked image's. The starting noise comes first so that an
 * all-white mask at strength 1 gives the text-to-image result of the same seed. diffusers draws the posterior
 * noise first; the parity tests replay its recorded draws.
 */
final class ImageRun {
    private final GenerationPlan plan;
    private final GenerationParameters used;
    private final ModelVariant variant;
    private final GuidedDenoiser denoiser;
    private final SamplingPlan steps;
    private final int first;
    /** (1, L, D) prompt features. */
    private final NDArray cond;
    /** (1, L, D) negative-prompt features with classifier-free guidance, else null. */
    private final NDArray uncond;
    private final double[] scale;
    private final Shape latentShape;
    private final EditInputs edit;
    /** The control adapter's scaled features (batch 1), computed once for every image and step, or null. */
    private final ControlResiduals control;
    private final RecordedNoise recorded;
    private final StepCallback callback;
    private final PipelineTrace trace;
    final List<Double> unetMs = new ArrayList<>();
    double decodeMs;

    ImageRun(NDManager scope, GenerationPlan plan, GuidedDenoiser denoiser, NDList text, Shape latentShape,
            RecordedNoise recorded, StepCallback callback, PipelineTrace trace) {
        this.plan = plan;
        this.used = plan.parameters();
        this.variant = plan.variant();
        this.denoiser = denoiser;
        this.steps = plan.samplingPlan();
        this.first = plan.firstStep();
        this.cond = text.get(0);
        this.uncond = text.size() > 1 ? text.get(1) : null;
        this.scale = new double[] {used.cfgScale()};
        this.latentShape = latentShape;
        this.recorded = recorded;
        this.callback = callback;
        this.trace = trace;
        trace.promptEmbeds(text.get(text.size() - 1));
        this.edit = plan.edit() == null ? null : new EditInputs(scope, plan.edit());
        this.control = plan.control() == null ? null : plan.control().residuals(scope);
    }

    /**
     * What an edit's images share, in the run's scope: the init image's posterior, and with a mask the latent mask
     * (1, 1, h, w) and for an inpainting UNet the masked image's posterior.
     */
    private final class EditInputs {
        final PreparedEdit prepared;
        final LatentDistribution posterior;
        final NDArray latentMask;
        final LatentDistribution maskedPosterior;

        EditInputs(NDManager scope, PreparedEdit prepared) {
            this.prepared = prepared;
            RgbImage image = prepared.image();
            // (1, 3, H, W) in [-1, 1]: diffusers' image_processor.preprocess
            NDArray pixels = scope.create(EditImages.signedPixels(image), new Shape(1, 3, image.height(),
                    image.width()));
            AutoencoderKL vae = variant.vae();
            this.posterior = vae.encode(pixels);
            if (prepared.masked()) {
                float[] m = EditImages.nearest(prepared.mask(), image.width(), image.height(),
                        (int) latentShape.get(3), (int) latentShape.get(2));
                this.latentMask = scope.create(m, new Shape(1, 1, latentShape.get(2), latentShape.get(3)));
            } else {
                this.latentMask = null;
            }
            if (variant.config().inpaintingUnet()) {
                // the masked image: pixels where the mask keeps them, 0 where it repaints
                NDArray keep = scope.create(prepared.mask(), new Shape(1, 1, image.height(), image.width()))
                        .lt(0.5f).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
                this.maskedPosterior = vae.encode(pixels.mul(keep));
            } else {
                this.maskedPosterior = null;
            }
        }

        /** scaling_factor * (sample - shift_factor): the latents the UNet works in. */
        NDArray latents(LatentDistribution posterior, NDArray noise) {
            NDArray z = posterior.sample(noise);
            if (variant.config().vae().shiftFactor().isPresent()) {
                z = z.sub((float) variant.config().vae().shiftFactor().getAsDouble());
            }
            return z.mul((float) variant.vae().scalingFactor());
        }
    }

    /** Image k of the batch: its own noise source (seed + k), sampler state and memory scope. */
    RgbImage image(NDManager scope, int k, List<RgbImage> done) {
        long seed = used.seedOf(k);
        NoiseSource noise = NoiseSource.seeded(seed);
        try (NDManager imageScope = scope.newSubManager(); SamplerState state = new SamplerState()) {
            NDArray standard = RecordedNoise.draw(recorded.initial(), k, latentShape, noise, imageScope);
            NDArray imageLatents = null;
            NDArray maskedLatents = null;
            if (edit != null) {
                NDArray vaeNoise = RecordedNoise.draw(recorded.vaeImage(), k, latentShape, noise, imageScope);
                imageLatents = edit.latents(edit.posterior, vaeNoise);
                trace.imageLatents(k, imageLatents);
                if (edit.maskedPosterior != null) {
                    NDArray maskedNoise = RecordedNoise.draw(recorded.vaeMasked(), k, latentShape, noise, imageScope);
                    maskedLatents = edit.latents(edit.maskedPosterior, maskedNoise);
                }
            }
            NDArray latents = startingLatents(standard, imageLatents);
            trace.initLatents(k, latents);
            for (int i = first; i < steps.size(); i++) {
                NDArray previous = latents;
                boolean cancelled;
                try (NDManager stepScope = imageScope.newSubManager()) {
                    // everything computed from these is freed with the step
                    attach(stepScope, latents, cond, uncond, standard, imageLatents, maskedLatents);
                    if (edit != null && edit.latentMask != null) {
                        stepScope.tempAttachAll(edit.latentMask);
                    }
                    StepResult r = step(k, i, latents, maskedLatents, noise, state);
                    NDArray next = blend(i, r.prevSample(), standard, imageLatents);
                    requireFinite(next, k, i);
                    trace.latents(k, i - first, next);
                    StepEvent event = new StepEvent(k, used.batchCount(), i - first, steps.size() - first,
                            steps.timestep(i), seed, unetMs.get(unetMs.size() - 1), r.denoised(),
                            x -> decodeLatents(variant, x, plan.vaeTiling()));
                    try {
                        callback.onStep(event);
                    } finally {
                        event.close();
                    }
                    cancelled = event.cancelled();
                    latents = next;
                    latents.attach(imageScope);
                }
                if (previous != imageLatents) {
                    previous.close();
                }
                if (cancelled) {
                    throw new GenerationCancelledException(done, k, used.batchCount(), i - first,
                            steps.size() - first);
                }
            }
            return decode(imageScope, k, latents);
        }
    }

    private static void attach(NDManager scope, NDArray... arrays) {
        for (NDArray a : arrays) {
            if (a != null) {
                scope.tempAttachAll(a);
            }
        }
    }

    /**
     * Text to image: the noise times the sampler's initial sigma. An edit: the encoded image noised to the first
     * step's timestep (diffusers' add_noise), or the encoded image itself when no step runs; inpainting at strength
     * 1 starts from pure noise as diffusers does.
     */
    private NDArray startingLatents(NDArray standard, NDArray imageLatents) {
        if (edit == null) {
            return steps.initialSample(standard);
        }
        if (first == steps.size()) {
            return imageLatents;
        }
        if (edit.prepared.masked() && edit.prepared.strength() == 1.0) {
            return steps.initialSample(standard);
        }
        return steps.addNoise(first, imageLatents, standard);
    }

    /**
     * Inpainting with an ordinary UNet (diffusers' StableDiffusionInpaintPipeline): outside the mask the latents are
     * replaced by the original's, noised with the run's starting noise to the next step's timestep (the clean
     * original after the last step), so the kept region ends exactly as encoded.
     */
    private NDArray blend(int i, NDArray stepped, NDArray standard, NDArray imageLatents) {
        if (edit == null || edit.latentMask == null || variant.config().inpaintingUnet()) {
            return stepped;
        }
        NDArray proper = i < steps.size() - 1 ? steps.addNoise(i + 1, imageLatents, standard) : imageLatents;
        NDArray m = edit.latentMask;
        // (1 - m) * proper + m * stepped, with m broadcast over the channels
        return proper.mul(m.neg().add(1f)).add(stepped.mul(m));
    }

    /** One guided UNet evaluation and one sampler step; results in the step scope. */
    private StepResult step(int k, int i, NDArray latents, NDArray maskedLatents, NoiseSource noise,
            SamplerState state) {
        NDManager stepScope = latents.getManager();
        NDArray scaled = steps.scaleModelInput(i, latents);
        if (maskedLatents != null) {
            // an inpainting UNet reads [latents, mask, masked image latents] on the channel axis
            scaled = NDArrays.concat(new NDList(scaled, edit.latentMask, maskedLatents), 1);
        }
        NDArray t = stepScope.create(new float[] {steps.timestep(i)});
        long unetStart = System.nanoTime();
        GuidedDenoiser.Prediction p = denoiser.predict(plan.guidance(), scaled, t, cond, uncond, scale, false,
                control);
        unetMs.add(millisSince(unetStart));
        trace.unetInput(k, i - first, p.input());
        trace.noisePrediction(k, i - first, p.unconditional(), p.conditional() != null ? p.conditional() : p.guided(),
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
            throw new NonFiniteValuesException("step " + (i - first + 1) + " of " + (steps.size() - first)
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
            NDArray decoded = decodeLatents(variant, latents, plan.vaeTiling());
            if (!Float.isFinite(decoded.sum().getFloat())) {
                throw new NonFiniteValuesException("the VAE decoded image " + (k + 1) + " to NaN or infinite"
                        + " values: its weights hold unusable values; no image was written");
            }
            trace.decoded(k, decoded);
            RgbImage image = Images.toRgb(decoded).get(0);
            if (edit != null && edit.prepared.pasteAlpha() != null) {
                image = EditImages.paste(edit.prepared.image(), image, edit.prepared.pasteAlpha());
            }
            decodeMs += millisSince(decodeStart);
            return image;
        }
    }

    /**
     * The text features in {@code scope}: {cond (1, L, D)}, or with classifier-free guidance {cond, uncond}, both
     * from one text-encoder batch of [negative, prompt].
     */
    static NDList encodeText(NDManager scope, ModelVariant variant, ChunkedPrompt prompt, ChunkedPrompt negative,
            int clipSkip) {
        try (NDManager textScope = scope.newSubManager()) {
            List<ChunkedPrompt> rows = negative != null ? List.of(negative, prompt) : List.of(prompt);
            NDArray embeds = PromptEncoder.encode(variant.textEncoder(), rows, clipSkip, textScope);
            NDList out = negative != null ? new NDList(embeds.get("1:2"), embeds.get("0:1"), embeds)
                    : new NDList(embeds);
            out.attach(scope);
            return out;
        }
    }

    /** diffusers: vae.decode(latents / scaling_factor + shift_factor); the result is in the latents' manager. */
    static NDArray decodeLatents(ModelVariant variant, NDArray latents, VaeTiling tiling) {
        return variant.vae().decode(variant.config().vae().decoderInput(latents), tiling);
    }

    private static double millisSince(long nanoStart) {
        return (System.nanoTime() - nanoStart) / 1e6;
    }
}
