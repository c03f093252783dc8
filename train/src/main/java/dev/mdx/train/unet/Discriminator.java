package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Module;

/** A UFOGen discriminator: (B, C, h, w) scaled latents at timesteps (B,), context (B, 77, D) -> (B, 1, h', w') logits. */
public abstract class Discriminator extends Module {
    public abstract NDArray forward(NDArray sample, NDArray timesteps, NDArray context);
}
