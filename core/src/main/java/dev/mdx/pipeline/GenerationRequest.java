package dev.mdx.pipeline;

import dev.mdx.sampling.SamplerKind;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One text-to-image request. Fields are checked on construction, each failure an {@link InvalidRequestException}
 * naming the field; checks that need the model (sizes must be multiples of the VAE factor, the sampler must
 * support the step count) happen in {@link PipelineConfig#validate}. Build one with
 * {@link TextToImagePipeline#newRequest()} (the model's defaults) or {@link #builder(GenerationDefaults)}.
 *
 * @param prompt what to draw; may be empty (unconditional)
 * @param negativePrompt what to steer away from; used only with guidance (cfgScale > 1)
 * @param steps model evaluations per image, >= 1
 * @param cfgScale classifier-free guidance scale, >= 0; 1 or less runs the model once per step on the prompt alone
 *     (no guidance: the setting for distilled 1- to 8-step models)
 * @param seed seed of image 0 (image k uses seed + k); negative picks a random seed, reported in the result
 * @param width image width in pixels
 * @param height image height in pixels
 * @param batchCount images generated one after the other, each reproducible alone from its seed
 * @param sampler the sampling method
 * @param eta DDIM's eta (0 deterministic, 1 DDPM-like); other samplers ignore it
 */
public record GenerationRequest(String prompt, String negativePrompt, int steps, double cfgScale, long seed, int width,
        int height, int batchCount, SamplerKind sampler, double eta) {

    public GenerationRequest {
        if (prompt == null) {
            throw new InvalidRequestException("prompt", "is missing");
        }
        if (negativePrompt == null) {
            negativePrompt = "";
        }
        if (steps < 1) {
            throw new InvalidRequestException("steps", "must be at least 1, got " + steps);
        }
        if (!(cfgScale >= 0) || Double.isInfinite(cfgScale)) {
            throw new InvalidRequestException("cfgScale", "must be a number >= 0, got " + cfgScale);
        }
        if (width < 1) {
            throw new InvalidRequestException("width", "must be positive, got " + width);
        }
        if (height < 1) {
            throw new InvalidRequestException("height", "must be positive, got " + height);
        }
        if (batchCount < 1) {
            throw new InvalidRequestException("batchCount", "must be at least 1, got " + batchCount);
        }
        if (sampler == null) {
            throw new InvalidRequestException("sampler", "is missing");
        }
        if (!(eta >= 0) || Double.isInfinite(eta)) {
            throw new InvalidRequestException("eta", "must be a number >= 0, got " + eta);
        }
    }

    /** A random seed as the web UI picks them: a non-negative 32-bit value, easy to type back in. */
    public static long randomSeed() {
        return ThreadLocalRandom.current().nextLong(1L << 32);
    }

    /** Whether classifier-free guidance runs (diffusers: guidance_scale > 1). */
    public boolean guided() {
        return cfgScale > 1;
    }

    public static Builder builder(GenerationDefaults defaults) {
        return new Builder(defaults);
    }

    public Builder toBuilder() {
        Builder b = new Builder(new GenerationDefaults(width, height, steps, cfgScale, sampler));
        return b.prompt(prompt).negativePrompt(negativePrompt).seed(seed).batchCount(batchCount).eta(eta);
    }

    /** Starts from a model's defaults; only prompt is usually set. Not thread-safe; the built record is. */
    public static final class Builder {
        private String prompt = "";
        private String negativePrompt = "";
        private int steps;
        private double cfgScale;
        private long seed = -1;
        private int width;
        private int height;
        private int batchCount = 1;
        private SamplerKind sampler;
        private double eta;

        private Builder(GenerationDefaults defaults) {
            Objects.requireNonNull(defaults, "defaults");
            this.steps = defaults.steps();
            this.cfgScale = defaults.cfgScale();
            this.width = defaults.width();
            this.height = defaults.height();
            this.sampler = defaults.sampler();
        }

        public Builder prompt(String value) {
            this.prompt = value;
            return this;
        }

        public Builder negativePrompt(String value) {
            this.negativePrompt = value;
            return this;
        }

        public Builder steps(int value) {
            this.steps = value;
            return this;
        }

        public Builder cfgScale(double value) {
            this.cfgScale = value;
            return this;
        }

        /** A negative seed means random. */
        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        public Builder width(int value) {
            this.width = value;
            return this;
        }

        public Builder height(int value) {
            this.height = value;
            return this;
        }

        public Builder size(int w, int h) {
            return width(w).height(h);
        }

        public Builder batchCount(int value) {
            this.batchCount = value;
            return this;
        }

        public Builder sampler(SamplerKind value) {
            this.sampler = value;
            return this;
        }

        public Builder eta(double value) {
            this.eta = value;
            return this;
        }

        public GenerationRequest build() {
            return new GenerationRequest(prompt, negativePrompt, steps, cfgScale, seed, width, height, batchCount,
                    sampler, eta);
        }
    }
}
