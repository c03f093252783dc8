package dev.mdx.vae;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Probe;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.GroupNorm;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;
import dev.mdx.tensor.Ops;
import dev.mdx.tensor.Scopes;
import java.util.List;

/**
 * diffusers Decoder: conv_in -> mid_block -> up_blocks (levels in reverse, layers_per_block + 1 resnets each,
 * no upsampler on the last) -> GroupNorm -> SiLU -> conv_out. Built from a {@link VaeDecoderConfig} so that a
 * narrower or shallower decoder keeps the same key names (a pixel_shuffle decoder's upsampler convs have other
 * shapes).
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
        for (int i = 0; i < levels; i++) {
            upBlocks.add(new VaeUpDecoderBlock(config, i));
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

    /**
     * (B, latent_channels, h, w) -> (B, out_channels, h * f, w * f); the probe sees each named stage. Without a
     * probe every stage's output is freed once the next stage has run, so the decode's memory is that of its
     * largest stage rather than the sum of all (SD's VAE at 512x512: 2.6 GB instead of 5.2 GB measured).
     */
    public NDArray forward(NDArray latent, Probe probe) {
        boolean keep = probe.enabled();
        NDArray h = probe.record("conv_in", convIn.forward(latent));
        h = stage(latent, h, probe.record("mid_block", midBlock.forward(h)), keep);
        for (int i = 0; i < upBlocks.size(); i++) {
            h = stage(latent, h, probe.record("up_blocks." + i, upBlocks.get(i).forward(h)), keep);
        }
        if (keep) {
            h = probe.record("conv_norm_out", convNormOut.forward(h));
            return probe.record("conv_out", convOut.forward(Ops.silu(h)));
        }
        NDArray features = h;
        // GroupNorm and SiLU make seven full-resolution arrays; only conv_out's 3-channel output survives them
        return next(latent, h, Scopes.run(() -> convOut.forward(Ops.silu(convNormOut.forward(features))), features));
    }

    private static NDArray stage(NDArray input, NDArray previous, NDArray result, boolean keep) {
        return keep ? result : next(input, previous, result);
    }

    /**
     * Frees {@code previous}, an intermediate the result was computed from, unless it is the caller's
     * {@code input} (or the result itself), and returns {@code result}.
     */
    static NDArray next(NDArray input, NDArray previous, NDArray result) {
        if (previous != input && previous != result) {
            previous.close();
        }
        return result;
    }
}
