package dev.mdx.vae;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Probe;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.GroupNorm;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;
import dev.mdx.tensor.Ops;
import java.util.List;

/**
 * diffusers Decoder: conv_in -> mid_block -> up_blocks (levels in reverse, layers_per_block + 1 resnets each,
 * no upsampler on the last) -> GroupNorm -> SiLU -> conv_out. Built from a {@link VaeDecoderConfig} so that a
 * narrower or shallower decoder keeps the same key names.
 */
public final class VaeDecoder extends Module {
    private final VaeDecoderConfig config;
    private final Conv2d convIn;
    private final VaeMidBlock midBlock;
    private final ModuleList<VaeUpDecoderBlock> upBlocks;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    public VaeDecoder(VaeDecoderConfig config) {
        this.config = config;
        List<Integer> channels = config.blockOutChannels();
        int groups = config.normNumGroups();
        int levels = channels.size();
        int top = channels.get(levels - 1);
        convIn = child("conv_in", new Conv2d(config.latentChannels(), top, 3, 1, 1));
        midBlock = child("mid_block", new VaeMidBlock(top, groups, config.midBlockAttention()));
        upBlocks = child("up_blocks", new ModuleList<>());
        int in = top;
        for (int i = 0; i < levels; i++) {
            int out = channels.get(levels - 1 - i);
            upBlocks.add(new VaeUpDecoderBlock(in, out, config.layersPerBlock() + 1, groups, i < levels - 1));
            in = out;
        }
        convNormOut = child("conv_norm_out", new GroupNorm(groups, channels.get(0), VaeConfig.NORM_EPS));
        convOut = child("conv_out", new Conv2d(channels.get(0), config.outChannels(), 3, 1, 1));
    }

    public VaeDecoderConfig config() {
        return config;
    }

    public NDArray forward(NDArray latent) {
        return forward(latent, Probe.off());
    }

    /** (B, latent_channels, h, w) -> (B, out_channels, h * f, w * f); the probe sees each named stage. */
    public NDArray forward(NDArray latent, Probe probe) {
        NDArray h = convIn.forward(latent);
        probe.record("conv_in", h);
        h = midBlock.forward(h);
        probe.record("mid_block", h);
        for (int i = 0; i < upBlocks.size(); i++) {
            h = upBlocks.get(i).forward(h);
            probe.record("up_blocks." + i, h);
        }
        h = convNormOut.forward(h);
        probe.record("conv_norm_out", h);
        h = convOut.forward(Ops.silu(h));
        probe.record("conv_out", h);
        return h;
    }
}
