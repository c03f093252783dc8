package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Conv2d;
import dev.mdx.tensor.Ops;
import dev.mdx.vae.AutoencoderKL;

/**
 * A discriminator in image space (adversarial diffusion distillation judges the one-step prediction as an image):
 * the latents go through the frozen VAE decoder (not a parameter of this module, so never trained, but
 * differentiable, so the generator gets the gradient through it), then a small patch discriminator trained from
 * scratch: three 4x4 stride-2 convolutions with SiLU and a 3x3 convolution to one logit per patch. It ignores the
 * timestep and the text: it is meant for clean samples (t' = 0), where it judges what the latent-space encoder
 * could not see, the high frequencies of the decoded image.
 */
public final class PixelDiscriminator extends Discriminator {
    private final AutoencoderKL vae;
    private final double scaling;
    private final double shift;
    private final Conv2d c1;
    private final Conv2d c2;
    private final Conv2d c3;
    private final Conv2d head;

    /** @param width channels of the first convolution (then 2x and 4x) */
    public PixelDiscriminator(AutoencoderKL vae, int width) {
        this.vae = vae;
        this.scaling = vae.scalingFactor();
        this.shift = vae.config().shiftFactor().orElse(0);
        int in = vae.config().outChannels();
        this.c1 = child("conv1", new Conv2d(in, width, 4, 2, 1));
        this.c2 = child("conv2", new Conv2d(width, 2 * width, 4, 2, 1));
        this.c3 = child("conv3", new Conv2d(2 * width, 4 * width, 4, 2, 1));
        this.head = child("logit_head", new Conv2d(4 * width, 1, 3, 1, 1));
    }

    /** Random convolutions, a zero head (logit 0 everywhere at the start, as the latent discriminator). */
    public void init(NDManager manager, long seed) {
        StateDicts.initRandom(this, manager, seed);
        namedParameters().forEach((k, p) -> {
            if (k.startsWith("logit_head.")) {
                p.set(manager.zeros(p.shape()));
            }
        });
    }

    /** Scaled latents (B, C, h, w) -> decoded (B, 3, H, W) -> (B, 1, H/8, W/8) logits; timesteps and context unused. */
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
        return head.forward(h);
    }
}
