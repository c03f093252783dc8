package dev.mdx.unet;

/** How a UNet's prediction is steered towards the prompt. */
public enum Guidance {
    /** One pass on the prompt: a CFG scale of 1 or less (the setting for 1- to 8-step students). */
    NONE,
    /** Classifier-free guidance: unconditional and conditional passes in one UNet batch of 2B, then mixed. */
    CLASSIFIER_FREE,
    /**
     * The UNet reads the scale as an input ({@code time_cond_proj_dim}: a w-conditioned student or an LCM UNet), one
     * pass at batch B with the embedding of (scale - 1), and no unconditional pass.
     */
    EMBEDDED;

    /** The guidance a UNet of {@code config} runs at {@code scale} (diffusers: CFG when guidance_scale > 1). */
    public static Guidance of(UNetConfig config, double scale) {
        if (config.hasTimeCondProj()) {
            return EMBEDDED;
        }
        return scale > 1 ? CLASSIFIER_FREE : NONE;
    }

    /** UNet examples per image in one denoiser call. */
    public int batchPerImage() {
        return this == CLASSIFIER_FREE ? 2 : 1;
    }

    /** Whether the call needs the embedding of an empty (or negative) prompt. */
    public boolean needsUnconditional() {
        return this == CLASSIFIER_FREE;
    }
}
