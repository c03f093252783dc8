package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * One training batch of the denoiser: clean latents already scaled by the VAE's scaling factor, (B, C, h, w), and
 * the caption each is conditioned on ("" where the caption was dropped for classifier-free guidance).
 */
public record LatentBatch(NDArray latents, List<String> captions) {}
