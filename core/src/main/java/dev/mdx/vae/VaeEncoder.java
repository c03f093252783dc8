package dev.mdx.vae;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Probe;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.GroupNorm;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;
import dev.mdx.tensor.Ops;
import java.util.List;

/** diffusers Encoder: conv_in -> down_blocks -> mid_block -> GroupNorm -> SiLU -> conv_out (2 x latent channels). */
public final class VaeEncoder extends Module {
    private final Conv2d convIn;
    private final ModuleList<VaeDownEncoderBlock> downBlocks;
    private final VaeMidBlock midBlock;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    public VaeEncoder(VaeConfig config) {
        List<Integer> channels = config.blockOutChannels();
        int groups = config.normNumGroups();
        convIn = child("conv_in", new Conv2d(config.inChannels(), channels.get(0), 3, 1, 1));
        downBlocks = child("down_blocks", new ModuleList<>());
        int in = channels.get(0);
        for (int i = 0; i < channels.size(); i++) {
            int out = channels.get(i);
            downBlocks.add(new VaeDownEncoderBlock(in, out, config.layersPerBlock(), groups,
                    i < channels.size() - 1));
            in = out;
        }
        int top = channels.get(channels.size() - 1);
        midBlock = child("mid_block", new VaeMidBlock(top, groups, config.midBlockAttention()));
        convNormOut = child("conv_norm_out", new GroupNorm(groups, top, VaeConfig.NORM_EPS));
        convOut = child("conv_out", new Conv2d(top, 2 * config.latentChannels(), 3, 1, 1));
    }

    /** (B, in_channels, H, W) -> (B, 2 * latent_channels, H / f, W / f); the probe sees each named stage. */
    public NDArray forward(NDArray image, Probe probe) {
        NDArray h = convIn.forward(image);
        probe.record("conv_in", h);
        for (int i = 0; i < downBlocks.size(); i++) {
            h = downBlocks.get(i).forward(h);
            probe.record("down_blocks." + i, h);
        }
        h = midBlock.forward(h);
        probe.record("mid_block", h);
        h = convNormOut.forward(h);
        probe.record("conv_norm_out", h);
        h = convOut.forward(Ops.silu(h));
        probe.record("conv_out", h);
        return h;
    }
}
