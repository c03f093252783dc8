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

    /** The UNet input of a step: the scaled latents, twice over with guidance. */
    default void unetInput(int image, int step, NDArray input) { }

    /** The UNet output halves (uncond is null without guidance) and the guided prediction. */
    default void noisePrediction(int image, int step, NDArray uncond, NDArray text, NDArray guided) { }

    /** The latents after a step. */
    default void latents(int image, int step, NDArray latents) { }

    /** The decoder output (1, 3, H, W) before conversion to an image. */
    default void decoded(int image, NDArray decoded) { }
}
