package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.Parameter;
import dev.mdx.tensor.Ops;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import java.util.List;
import java.util.Map;

/**
 * UFOGen's discriminator D(x_{t'}, t', c) for a UNet (paper-notes 7.5, inferred): the UNet's encoder half (time
 * embedding, conv_in, down blocks, mid block; text enters through their cross-attention) followed by SiLU and a 1x1
 * convolution to one logit per location of the innermost feature map. Parameter keys are the UNet's own for the
 * encoder (so it loads from a UNet state dict) plus {@code logit_head.weight} / {@code logit_head.bias}.
 */
public final class UfoGenDiscriminator extends Discriminator {
    static final List<String> ENCODER_PARTS = List.of("time_embedding", "conv_in", "down_blocks", "mid_block");
    static final String HEAD = "logit_head";

    private final UNet2DConditionModel unet;
    private final Conv2d head;

    public UfoGenDiscriminator(UNetConfig config) {
        // the UNet's decoder modules are built but never registered here, so they are never loaded nor trained
        this.unet = UNet2DConditionModel.fromConfig(config);
        for (String part : ENCODER_PARTS) {
            child(part, unet.children().get(part));
        }
        List<Integer> channels = config.blockOutChannels();
        this.head = child(HEAD, new Conv2d(channels.get(channels.size() - 1), 1, 1, 1, 0));
    }

    /**
     * Copies the encoder weights of {@code base} (its arrays are duplicated into {@code manager}) and zeroes the
     * logit head, as the reference code zero-initialises D's last layer: D starts at logit 0 everywhere.
     */
    public void initFrom(UNet2DConditionModel base, NDManager manager) {
        Map<String, Parameter> from = base.namedParameters();
        namedParameters().forEach((k, p) -> {
            if (k.startsWith(HEAD + ".")) {
                p.set(manager.zeros(p.shape()));
            } else {
                NDArray copy = from.get(k).get().duplicate();
                copy.attach(manager);
                p.set(copy);
            }
        });
    }

    /** (B, C, H, W) noisy latents at timesteps (B,), context (B, 77, D) -> (B, 1, h, w) logits. */
    @Override
    public NDArray forward(NDArray sample, NDArray timesteps, NDArray context) {
        return head.forward(Ops.silu(unet.encode(sample, timesteps, context)));
    }
}
