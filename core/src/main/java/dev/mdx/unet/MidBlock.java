package dev.mdx.unet;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;
import dev.mdx.nn.Probe;

/**
 * diffusers' {@code UNetMidBlock2DCrossAttn}: resnets.0 -> attentions.0 -> resnets.1, at the innermost level; with
 * {@code mid_block_resnets: 1} resnets.1 is absent (MobileDiffusion's single bottleneck ResBlock).
 */
public final class MidBlock extends Module {
    private final ModuleList<ResnetBlock2D> resnets;
    private final ModuleList<Transformer2DModel> attentions;

    MidBlock(UNetConfig c) {
        int level = c.levels() - 1;
        int channels = c.blockOutChannels().get(level);
        boolean separable = c.separableConvLevels().get(level);
        this.attentions = child("attentions", new ModuleList<>());
        this.resnets = child("resnets", new ModuleList<>());
        TransformerSpec spec = TransformerSpec.forLevel(c, level, c.midBlockTransformerLayers(),
                c.midBlockSelfAttention());
        for (int j = 0; j < c.midBlockResnets(); j++) {
            resnets.add(new ResnetBlock2D(channels, channels, c.timeEmbedDim(), c.normNumGroups(),
                    (float) c.normEps(), c.midBlockScaleFactor(), separable));
        }
        attentions.add(new Transformer2DModel(channels, spec));
    }

    /** (B, C, H, W) -> (B, C, H, W). */
    NDArray forward(NDArray x, NDArray tembAct, NDArray context, Probe probe) {
        NDArray h = probe.record("resnets.0", resnets.get(0).forward(x, tembAct));
        for (int j = 0; j < attentions.size(); j++) {
            h = probe.record("attentions." + j, attentions.get(j).forward(h, context));
            if (j + 1 < resnets.size()) {
                h = probe.record("resnets." + (j + 1), resnets.get(j + 1).forward(h, tembAct));
            }
        }
        return h;
    }
}
