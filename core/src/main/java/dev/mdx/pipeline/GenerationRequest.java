package dev.mdx.pipeline;

import dev.mdx.lora.LoraSpec;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.tensor.Precision;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What a caller asks for. Unset fields (null) take the defaults of the model that runs the request, which
 * {@link TextToImagePipeline#plan} picks first: a request for 1 or 8 steps on a model that ships a few-step student
 * runs that student with its own defaults (no guidance for the one-step UFOGen student) unless
 * {@code useStudent} is false. Fields are checked on construction, each failure an {@link InvalidRequestException}
 * naming the field; the checks that need the model happen when the request is planned.
 *
 * @param prompt what to draw; may be empty (unconditional)
 * @param negativePrompt what to steer away from; used only with classifier-free guidance
 * @param steps model evaluations per image, >= 1; null for the model's default
 * @param cfgScale classifier-free guidance scale, >= 0; 1 or less runs the model once per step on the prompt alone
 *     (no guidance: the setting for distilled 1- to 8-step models); null for the model's default
 * @param seed seed of image 0 (image k uses seed + k); negative picks a random seed, reported in the result
 * @param width image width in pixels; null for the model's
 * @param height image height in pixels; null for the model's
 * @param batchCount images generated one after the other, each reproducible alone from its seed
 * @param sampler the sampling method; null for the model's scheduler
 * @param eta DDIM's eta in [0, 1] (0 deterministic, 1 DDPM-like); other samplers ignore it
 * @param useStudent whether a step count that matches a student the model ships runs that student
 * @param edit the image to start from (image to image, inpainting, outpainting), or null for text to image
 * @param vaeTilePixels the side of the tiles the VAE decodes in, in image pixels; 0 decodes whole; null decodes
 *     whole, or in tiles when only that fits the machine's memory
 * @param loras LoRA files to fuse into the UNet and the text encoder, in order, besides those the prompt names
 *     with {@code <lora:NAME:SCALE>} (looked up in the pipeline's LoRA folder)
 * @param loraLenient apply the layers of a LoRA that match the model and skip (and report) the tensors that match
 *     nothing, instead of failing
 * @param clipSkip A1111's "Clip skip": 1 conditions on the text encoder's last layer, 2 on the one before it (then
 *     the final layer norm), and so on up to the encoder's layer count; null for 1
 * @param control spatial control through a control adapter (a condition map or a photo to extract one from), or
 *     null for none
 * @param precision the number format of the layers' matrix work ({@link Precision}); null for
 *     {@link Precision#machineDefault()} (bf16 where the CPU has it). bf16 asked for runs fp32 with a note where
 *     the CPU lacks it
 */
public record GenerationRequest(String prompt, String negativePrompt, Integer steps, Double cfgScale, long seed,
        Integer width, Integer height, int batchCount, SamplerKind sampler, double eta, boolean useStudent,
        ImageEdit edit, Integer vaeTilePixels, List<LoraSpec> loras, boolean loraLenient, Integer clipSkip,
        ImageControl control, Precision precision) {

    public GenerationRequest {
        if (clipSkip != null && clipSkip < 1) {
            throw new InvalidRequestException("clipSkip", "must be at least 1 (1 = the text encoder's last layer), got "
                    + clipSkip);
        }
        if (vaeTilePixels != null && vaeTilePixels < 0) {
            throw new InvalidRequestException("vaeTilePixels", "must be 0 (whole) or a tile side in pixels, got "
                    + vaeTilePixels);
        }
        if (prompt == null) {
            throw new InvalidRequestException("prompt", "is missing");
        }
        if (negativePrompt == null) {
            negativePrompt = "";
        }
        if (steps != null && steps < 1) {
            throw new InvalidRequestException("steps", "must be at least 1, got " + steps);
        }
        if (cfgScale != null && (!(cfgScale >= 0) || Double.isInfinite(cfgScale))) {
            throw new InvalidRequestException("cfgScale", "must be a number >= 0, got " + cfgScale);
        }
        if (width != null && width < 1) {
            throw new InvalidRequestException("width", "must be positive, got " + width);
        }
        if (height != null && height < 1) {
            throw new InvalidRequestException("height", "must be positive, got " + height);
        }
        if (batchCount < 1) {
            throw new InvalidRequestException("batchCount", "must be at least 1, got " + batchCount);
        }
        if (seed >= 0 && seed > Long.MAX_VALUE - (batchCount - 1)) {
            throw new InvalidRequestException("seed", "must leave room for the batch's seeds (seed + " + (batchCount - 1)
                    + " must not exceed " + Long.MAX_VALUE + "), got " + seed);
        }
        // DDIM's sigma_t = eta * sqrt((1 - a_prev) / (1 - a_t)) * sqrt(1 - a_t / a_prev): above 1 the direction term
        // takes the square root of a negative number (NaN latents, a black image)
        if (!(eta >= 0 && eta <= 1)) {
            throw new InvalidRequestException("eta", "must be between 0 and 1, got " + eta);
        }
        if (loras != null && loras.stream().anyMatch(java.util.Objects::isNull)) {
            throw new InvalidRequestException("loras", "holds a null entry");
        }
        loras = loras == null ? List.of() : List.copyOf(loras);
    }

    /** A random seed as the web UI picks them: a non-negative 32-bit value, easy to type back in. */
    public static long randomSeed() {
        return ThreadLocalRandom.current().nextLong(1L << 32);
    }

    /** A builder with nothing set: the prompt is empty, everything else comes from the model. */
    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.prompt = prompt;
        b.negativePrompt = negativePrompt;
        b.steps = steps;
        b.cfgScale = cfgScale;
        b.seed = seed;
        b.width = width;
        b.height = height;
        b.batchCount = batchCount;
        b.sampler = sampler;
        b.eta = eta;
        b.useStudent = useStudent;
        b.edit = edit;
        b.vaeTilePixels = vaeTilePixels;
        b.loras = new ArrayList<>(loras);
        b.loraLenient = loraLenient;
        b.precision = precision;
        b.clipSkip = clipSkip;
        b.control = control;
        return b;
    }

    /** Sets what the caller wants; unset values come from the model. Not thread-safe; the built record is. */
    public static final class Builder {
        private String prompt = "";
        private String negativePrompt = "";
        private Integer steps;
        private Double cfgScale;
        private long seed = -1;
        private Integer width;
        private Integer height;
        private int batchCount = 1;
        private SamplerKind sampler;
        private double eta;
        private boolean useStudent = true;
        private ImageEdit edit;
        private Integer vaeTilePixels;
        private List<LoraSpec> loras = new ArrayList<>();
        private boolean loraLenient;
        private Precision precision;
        private Integer clipSkip;
        private ImageControl control;

        private Builder() {}

        public Builder prompt(String value) {
            this.prompt = value;
            return this;
        }

        public Builder negativePrompt(String value) {
            this.negativePrompt = value;
            return this;
        }

        public Builder steps(Integer value) {
            this.steps = value;
            return this;
        }

        public Builder cfgScale(Double value) {
            this.cfgScale = value;
            return this;
        }

        public Builder cfgScale(double value) {
            return cfgScale(Double.valueOf(value));
        }

        /** A negative seed means random. */
        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        public Builder width(Integer value) {
            this.width = value;
            return this;
        }

        public Builder height(Integer value) {
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

        /** False runs the base model at any step count, even where it ships a student for that count. */
        public Builder useStudent(boolean value) {
            this.useStudent = value;
            return this;
        }

        /** Starts from an image (see {@link ImageEdit}); null for text to image. */
        public Builder edit(ImageEdit value) {
            this.edit = value;
            return this;
        }

        /** Decode in tiles of this many pixels a side (0: whole); null chooses by the machine's memory. */
        public Builder vaeTilePixels(Integer value) {
            this.vaeTilePixels = value;
            return this;
        }

        /** Adds a LoRA, applied after those added before. */
        public Builder lora(LoraSpec value) {
            this.loras.add(value);
            return this;
        }

        /** Replaces the LoRA list. */
        public Builder loras(List<LoraSpec> value) {
            this.loras = new ArrayList<>(value);
            return this;
        }

        /** True applies what matches of a LoRA and reports the rest, instead of failing. */
        public Builder loraLenient(boolean value) {
            this.loraLenient = value;
            return this;
        }

        /** A1111's clip skip (1 = the last layer); null for 1. */
        public Builder clipSkip(Integer value) {
            this.clipSkip = value;
            return this;
        }

        /** Steers the layout with a control adapter (see {@link ImageControl}); null for none. */
        public Builder control(ImageControl value) {
            this.control = value;
            return this;
        }

        /** fp32 or bf16; null (the default) for {@link Precision#machineDefault()}. */
        public Builder precision(Precision value) {
            this.precision = value;
            return this;
        }

        public GenerationRequest build() {
            return new GenerationRequest(prompt, negativePrompt, steps, cfgScale, seed, width, height, batchCount,
                    sampler, eta, useStudent, edit, vaeTilePixels, loras, loraLenient, clipSkip,
                    control, precision);
        }
    }
}
