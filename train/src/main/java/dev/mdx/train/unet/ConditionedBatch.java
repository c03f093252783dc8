package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;

/**
 * A denoiser batch with each example's condition map: {@code conditions} (B, 1, H, W) in [0, 1], made from the
 * same images as the latents.
 */
public record ConditionedBatch(LatentBatch latents, NDArray conditions) {}
