package dev.mdx.pipeline;

import ai.djl.ndarray.NDArray;

/**
 * Intermediate tensors of a run, for parity tests against diffusers' recorded ones. The arrays are only valid
 * during the call; copy what you keep.
 */
interface PipelineTrace {
    PipelineTrace NONE = new PipelineTrace() { };

    /** (2, L, D) [negative, prompt] with guidance, else (1, L, D). */
    default void promptEmbeds(NDArray embeds) { }

    /** An edit's encoded image: scaling_factor * (posterior mean + std * noise), (1, C, h, w). */
    default void imageLatents(int image, NDArray latents) { }

    /** The first sample of a run: the scaled noise, or for an edit the encoded image noised to the first step. */
    default void initLatents(int image, NDArray latents) { }

    /** The UNet input of a step: the scaled latents, twice over with guidance. */
    default void unetInput(int image, int step, NDArray input) { }

    /** The UNet output halves (uncond is null without guidance) and the guided prediction. */
    default void noisePrediction(int image, int step, NDArray uncond, NDArray text, NDArray guided) { }

    /** The latents after a step (for inpainting, after the blend with the original outside the mask). */
    default void latents(int image, int step, NDArray latents) { }

    /** The decoder output (1, 3, H, W) before conversion to an image. */
    default void decoded(int image, NDArray decoded) { }
}
