package dev.mdx.vae;

import ai.djl.ndarray.NDArray;
import dev.mdx.tensor.Ops;

/**
 * The encoder's diagonal Gaussian posterior over latents (diffusers DiagonalGaussianDistribution), unscaled:
 * the pipeline multiplies a sample by the config's scaling factor.
 *
 * @param mean (B, C, h, w)
 * @param logvar (B, C, h, w), already clamped to [-30, 20]
 */
public record LatentDistribution(NDArray mean, NDArray logvar) {

    /** exp(logvar / 2); the scalar is the engine's, so training can differentiate through it (see Ops.scalarMul). */
    public NDArray std() {
        return Ops.scalarMul(logvar, 0.5f).exp();
    }

    /** mean + std * noise, with noise ~ N(0, 1) of the same shape supplied by the caller. */
    public NDArray sample(NDArray noise) {
        if (!noise.getShape().equals(mean.getShape())) {
            throw new IllegalArgumentException("noise shape " + noise.getShape() + " differs from latent shape "
                    + mean.getShape());
        }
        return mean.add(std().mul(noise));
    }

    /** The most likely latent: the mean. */
    public NDArray mode() {
        return mean;
    }
}
