package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.Linear;
import dev.mdx.tensor.Ops;
import dev.mdx.vae.AutoencoderKL;

/**
 * A discriminator in image space (adversarial diffusion distillation judges the one-step prediction as an image):
 * the latents go through the frozen VAE decoder (not a parameter of this module, so never trained, but
 * differentiable, so the generator gets the gradient through it), then a small patch discriminator trained from
 * scratch: three 4x4 stride-2 convolutions with SiLU and a 3x3 convolution to one logit per patch. It ignores the
 * timestep: it is meant for clean samples (t' = 0), where it judges what the latent-space encoder could not see,
 * the high frequencies of the decoded image. With a context dimension it is text-conditioned as a projection
 * discriminator (Miyato and Koyama 2018): each patch logit adds the inner product of the patch features with a
 * linear map of the mean text embedding, so "a real sandal" and "a real image" are different questions.
 */
public final class PixelDiscriminator extends Discriminator {
    private final AutoencoderKL vae;
    private final double scaling;
    private final double shift;
    private final Conv2d c1;
    private final Conv2d c2;
    private final Conv2d c3;
    private final Conv2d head;
    private final Linear textProjection;

    /**
     * @param width channels of the first convolution (then 2x and 4x)
     * @param contextDim the text embedding's width for the projection term, or 0 for an unconditional discriminator
     */
    public PixelDiscriminator(AutoencoderKL vae, int width, int contextDim) {
        this.vae = vae;
        this.scaling = vae.scalingFactor();
        this.shift = vae.config().shiftFactor().orElse(0);
        int in = vae.config().outChannels();
        this.c1 = child("conv1", new Conv2d(in, width, 4, 2, 1));
        this.c2 = child("conv2", new Conv2d(width, 2 * width, 4, 2, 1));
        this.c3 = child("conv3", new Conv2d(2 * width, 4 * width, 4, 2, 1));
        this.head = child("logit_head", new Conv2d(4 * width, 1, 3, 1, 1));
        this.textProjection = contextDim > 0 ? child("text_projection", new Linear(contextDim, 4 * width, false))
                : null;
    }

    /** Random convolutions, a zero head and projection (logit 0 everywhere at the start, as the latent one). */
    public void init(NDManager manager, long seed) {
        StateDicts.initRandom(this, manager, seed);
        namedParameters().forEach((k, p) -> {
            if (k.startsWith("logit_head.") || k.startsWith("text_projection.")) {
                p.set(manager.zeros(p.shape()));
            }
        });
    }

    /** Scaled latents (B, C, h, w) -> decoded (B, 3, H, W) -> (B, 1, H/8, W/8) logits; timesteps unused. */
    @Override
    public NDArray forward(NDArray sample, NDArray timesteps, NDArray context) {
        NDArray z = Ops.mulScalar(sample, 1 / scaling);
        if (shift != 0) {
            z = z.add(sample.getManager().full(new Shape(), (float) shift));
        }
        NDArray image = vae.decode(z);
        NDArray h = Ops.silu(c1.forward(image));
        h = Ops.silu(c2.forward(h));
        h = Ops.silu(c3.forward(h));
        NDArray logits = head.forward(h);
        if (textProjection == null) {
            return logits;
        }
        // (B, 77, D) -> mean over tokens (B, D) -> (B, 4w, 1, 1); inner product with each patch's features
        NDArray text = textProjection.forward(context.mean(new int[] {1}));
        NDArray projected = h.mul(text.expandDims(2).expandDims(3)).sum(new int[] {1}, true);
        return logits.add(projected);
    }
}
