package dev.mdx.train.vae;

import ai.djl.ndarray.NDArray;
import dev.mdx.tensor.Ops;
import dev.mdx.train.LossFunction;
import dev.mdx.train.StepContext;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.LatentDistribution;

/**
 * The autoencoder's training loss on a batch of images in [-1, 1]: encode, draw a latent from the posterior with
 * the step's generator, decode, and compare.
 *
 * <p>{@code loss = mean(|x - x'|) + kl_weight * sum(KL) / (B * C * H * W)} (or the squared error for L2). This is
 * the LDM autoencoder loss (reconstruction summed over pixels plus {@code kl_weight} times the KL summed over latent
 * elements, per image) divided by the pixel count C*H*W, so {@code kl_weight} has LDM's meaning (SD used 1e-6)
 * while the loss stays O(1) for gradient clipping. KL is that of N(mean, exp(logvar)) from N(0, 1). Scalar factors
 * go through {@link Ops#mulScalar}: DJL's {@code mul(Number)} frees the scalar that backward still reads.
 */
public final class VaeLoss implements LossFunction<NDArray> {
    /** The pixel-wise reconstruction term. */
    public enum Reconstruction { L1, L2 }

    /**
     * @param reconstruction L1 or L2 per pixel
     * @param klWeight weight of the KL term in LDM's convention; 0 skips it (frozen encoder)
     */
    public record Settings(Reconstruction reconstruction, double klWeight) {}

    private final AutoencoderKL vae;
    private final Settings settings;

    public VaeLoss(AutoencoderKL vae, Settings settings) {
        this.vae = vae;
        this.settings = settings;
    }

    @Override
    public NDArray loss(NDArray images, StepContext ctx) {
        LatentDistribution posterior = vae.encode(images);
        NDArray noise = ctx.rng().randn(ctx.scope(), posterior.mean().getShape());
        NDArray decoded = vae.decode(posterior.sample(noise));
        NDArray loss = reconstruction(decoded, images, settings.reconstruction());
        if (settings.klWeight() > 0) {
            long pixels = images.getShape().size();
            loss = loss.add(Ops.mulScalar(kl(posterior).sum(), settings.klWeight() / pixels));
        }
        return loss;
    }

    /** Mean absolute or squared error over all elements. */
    static NDArray reconstruction(NDArray decoded, NDArray target, Reconstruction kind) {
        NDArray diff = decoded.sub(target);
        return kind == Reconstruction.L1 ? diff.abs().mean() : diff.square().mean();
    }

    /** Element-wise KL(N(mean, var) || N(0, 1)) = (mean^2 + var - 1 - logvar) / 2. */
    static NDArray kl(LatentDistribution p) {
        return Ops.mulScalar(p.mean().square().add(p.logvar().exp()).sub(1f).sub(p.logvar()), 0.5);
    }
}
