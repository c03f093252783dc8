package dev.mdx.vae;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;

/** diffusers UNetMidBlock2D without time embedding: resnets.0 -> attentions.0 (optional) -> resnets.1. */
final class VaeMidBlock extends Module {
    private final ModuleList<VaeResnetBlock> resnets;
    private final VaeAttention attention;

    VaeMidBlock(int channels, int groups, boolean withAttention) {
        if (withAttention) {
            ModuleList<VaeAttention> attentions = child("attentions", new ModuleList<>());
            attention = attentions.add(new VaeAttention(channels, groups));
        } else {
            attention = null;
        }
        resnets = child("resnets", new ModuleList<>());
        resnets.add(new VaeResnetBlock(channels, channels, groups));
        resnets.add(new VaeResnetBlock(channels, channels, groups));
    }

    /** (B, C, H, W) -> (B, C, H, W). */
    NDArray forward(NDArray x) {
        NDArray h = resnets.get(0).forward(x);
        if (attention != null) {
            h = VaeDecoder.next(x, h, attention.forward(h));
        }
        return VaeDecoder.next(x, h, resnets.get(1).forward(h));
    }
}
