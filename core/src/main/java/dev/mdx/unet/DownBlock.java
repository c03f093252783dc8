package dev.mdx.unet;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;
import dev.mdx.nn.Probe;
import java.util.List;

/**
 * diffusers' {@code CrossAttnDownBlock2D} (resnets each followed by a Transformer2DModel) and {@code DownBlock2D}
 * (resnets only), with an optional stride-2 downsampler. Every resnet (or attention) output and the downsampler
 * output are skip connections for the up path.
 */
public final class DownBlock extends Module {
    private final ModuleList<ResnetBlock2D> resnets;
    private final ModuleList<Transformer2DModel> attentions;
    private final Downsample2D downsampler;

    /**
     * @param level index of this block among the down blocks
     * @param in input channels
     */
    DownBlock(UNetConfig c, int level, int in) {
        int out = c.blockOutChannels().get(level);
        boolean last = level == c.levels() - 1;
        boolean separable = c.separableConvLevels().get(level);
        this.resnets = child("resnets", new ModuleList<>());
        for (int j = 0; j < c.layersPerBlock().get(level); j++) {
            resnets.add(new ResnetBlock2D(j == 0 ? in : out, out, c.timeEmbedDim(), c.normNumGroups(),
                    (float) c.normEps(), c.resnetOutScaleFactor(), separable));
        }
        if (c.downBlockTypes().get(level).hasAttention()) {
            this.attentions = child("attentions", new ModuleList<>());
            TransformerSpec spec = TransformerSpec.forLevel(c, level, c.transformerLayersPerBlock().get(level),
                    c.selfAttentionLevels().get(level));
            for (int j = 0; j < resnets.size(); j++) {
                attentions.add(new Transformer2DModel(out, spec));
            }
        } else {
            this.attentions = null;
        }
        if (!last) {
            ModuleList<Downsample2D> samplers = child("downsamplers", new ModuleList<>());
            this.downsampler = samplers.add(new Downsample2D(out, c.downsamplePadding()));
        } else {
            this.downsampler = null;
        }
    }

    /**
     * @param x (B, in, H, W)
     * @param tembAct SiLU(time embedding)
     * @param context encoder hidden states
     * @param skips receives the skip connections in production order
     * @param residual a control adapter's features (B or 1, out, H, W), added to the last resnet/attention output
     *     (and so to its skip connection) before the downsampler; null adds nothing
     * @return (B, out, H', W'), H' = ceil(H/2) unless this is the last block
     */
    NDArray forward(NDArray x, NDArray tembAct, NDArray context, List<NDArray> skips, NDArray residual,
            Probe probe) {
        NDArray h = x;
        for (int j = 0; j < resnets.size(); j++) {
            h = probe.record("resnets." + j, resnets.get(j).forward(h, tembAct));
            if (attentions != null) {
                h = probe.record("attentions." + j, attentions.get(j).forward(h, context));
            }
            if (residual != null && j == resnets.size() - 1) {
                h = h.add(residual);
            }
            skips.add(h);
        }
        if (downsampler != null) {
            h = probe.record("downsamplers.0", downsampler.forward(h));
            skips.add(h);
        }
        return h;
    }
}
