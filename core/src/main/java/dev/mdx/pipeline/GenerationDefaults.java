package dev.mdx.pipeline;

import dev.mdx.sampling.SamplerKind;
import java.util.Objects;

/**
 * What a request uses for the values it does not set, taken from the model folder (see
 * {@link PipelineConfig#read}): the image size the UNet was made for, the sampler of the folder's scheduler, and the
 * step count and guidance scale that suit that sampler.
 */
public record GenerationDefaults(int width, int height, int steps, double cfgScale, SamplerKind sampler) {
    /** diffusers' StableDiffusionPipeline call defaults. */
    public static final int DIFFUSERS_STEPS = 50;
    public static final double DIFFUSERS_CFG_SCALE = 7.5;
    /** LCM models are distilled for a few steps without classifier-free guidance (diffusers' LCM pipeline: 4). */
    public static final int LCM_STEPS = 4;
    /** UFOGen generates in one step; guidance 1 turns classifier-free guidance off. */
    public static final int UFOGEN_STEPS = 1;
    public static final double NO_GUIDANCE = 1.0;

    public GenerationDefaults {
        Objects.requireNonNull(sampler, "sampler");
    }

    /** The defaults for a model made for {@code width} x {@code height} whose scheduler is {@code sampler}. */
    public static GenerationDefaults forSampler(int width, int height, SamplerKind sampler) {
        return switch (sampler) {
            case LCM -> new GenerationDefaults(width, height, LCM_STEPS, NO_GUIDANCE, sampler);
            case UFOGEN -> new GenerationDefaults(width, height, UFOGEN_STEPS, NO_GUIDANCE, sampler);
            default -> new GenerationDefaults(width, height, DIFFUSERS_STEPS, DIFFUSERS_CFG_SCALE, sampler);
        };
    }
}
