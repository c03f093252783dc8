package dev.mdx.unet;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;
import dev.mdx.nn.Probe;
import java.util.List;

/**
 * diffusers' {@code CrossAttnUpBlock2D} and {@code UpBlock2D}: layers_per_block + 1 resnets, each fed
 * cat([h, skip], dim=1) with the skips taken in reverse order of production, each optionally followed by a
 * Transformer2DModel; then an optional nearest-x2 + conv upsampler.
 */
public final class UpBlock extends Module {
    private final ModuleList<ResnetBlock2D> resnets;
    private final ModuleList<Transformer2DModel> attentions;
    private final Upsample2D upsampler;

    /**
     * @param index index of this block among the up blocks (level n-1-index)
     * @param prevOut channels coming from the previous up block (or the mid block)
     */
    UpBlock(UNetConfig c, int index, int prevOut) {
        int level = c.levelOfUpBlock(index);
        int out = c.blockOutChannels().get(level);
        // channels of the skip that the last resnet consumes: the previous level's downsampler (or conv_in)
        int in = c.blockOutChannels().get(Math.max(level - 1, 0));
        int layers = c.layersPerBlock().get(level) + 1;
        boolean separable = c.separableConvLevels().get(level);
        this.resnets = child("resnets", new ModuleList<>());
        for (int j = 0; j < layers; j++) {
            int skip = j == layers - 1 ? in : out;
            int resnetIn = j == 0 ? prevOut : out;
            resnets.add(new ResnetBlock2D(resnetIn + skip, out, c.timeEmbedDim(), c.normNumGroups(),
                    (float) c.normEps(), c.resnetOutScaleFactor(), separable));
        }
        if (c.upBlockTypes().get(index).hasAttention()) {
            this.attentions = child("attentions", new ModuleList<>());
            TransformerSpec spec = TransformerSpec.forLevel(c, level, c.transformerLayersPerBlock().get(level),
                    c.selfAttentionLevels().get(level));
            for (int j = 0; j < layers; j++) {
                attentions.add(new Transformer2DModel(out, spec));
            }
        } else {
            this.attentions = null;
        }
        if (index < c.levels() - 1) {
            ModuleList<Upsample2D> samplers = child("upsamplers", new ModuleList<>());
            this.upsampler = samplers.add(new Upsample2D(out));
        } else {
            this.upsampler = null;
        }
    }

    int resnetCount() {
        return resnets.size();
    }

    /**
     * @param x (B, prevOut, H, W)
     * @param skips the remaining skip connections; this block removes the last resnetCount() of them
     * @return (B, out, H2, W2), the size of the next skip when an upsampler follows
     */
    NDArray forward(NDArray x, NDArray tembAct, NDArray context, List<NDArray> skips, Probe probe) {
        NDArray h = x;
        for (int j = 0; j < resnets.size(); j++) {
            NDArray skip = skips.remove(skips.size() - 1);
            // (B, C1, H, W) ++ (B, C2, H, W) -> (B, C1 + C2, H, W)
            h = probe.record("resnets." + j, resnets.get(j).forward(h.concat(skip, 1), tembAct));
            if (attentions != null) {
                h = probe.record("attentions." + j, attentions.get(j).forward(h, context));
            }
        }
        if (upsampler != null) {
            NDArray next = skips.get(skips.size() - 1);
            h = probe.record("upsamplers.0", upsampler.forward(h, next.getShape().get(2), next.getShape().get(3)));
        }
        return h;
    }
}
