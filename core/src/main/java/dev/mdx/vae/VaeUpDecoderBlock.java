package dev.mdx.vae;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;
import dev.mdx.tensor.Ops;
import dev.mdx.tensor.Scopes;

/** diffusers UpDecoderBlock2D: resnets, then (except on the last level) nearest x2 upsampling and a 3x3 conv. */
final class VaeUpDecoderBlock extends Module {
    private final ModuleList<VaeResnetBlock> resnets;
    private final Upsample upsample;

    VaeUpDecoderBlock(int in, int out, int layers, int groups, boolean addUpsample) {
        resnets = child("resnets", new ModuleList<>());
        for (int j = 0; j < layers; j++) {
            resnets.add(new VaeResnetBlock(j == 0 ? in : out, out, groups));
        }
        if (addUpsample) {
            ModuleList<Upsample> upsamplers = child("upsamplers", new ModuleList<>());
            upsample = upsamplers.add(new Upsample(out));
        } else {
            upsample = null;
        }
    }

    /**
     * (B, in, H, W) -> (B, out, 2H, 2W), or (B, out, H, W) on the last level. Each intermediate is freed as soon as
     * the next exists, so the block holds at most two feature maps besides the running layer's own.
     */
    NDArray forward(NDArray x) {
        NDArray h = x;
        for (VaeResnetBlock r : resnets.items()) {
            h = VaeDecoder.next(x, h, r.forward(h));
        }
        if (upsample == null) {
            return h;
        }
        NDArray in = h;
        return VaeDecoder.next(x, h, Scopes.run(() -> upsample.forward(in), in));
    }

    /** diffusers Upsample2D with a conv: nearest-neighbour x2, then a 3x3 conv. */
    static final class Upsample extends Module {
        private final Conv2d conv;

        Upsample(int channels) {
            conv = child("conv", new Conv2d(channels, channels, 3, 1, 1));
        }

        NDArray forward(NDArray x) {
            return conv.forward(Ops.upsampleNearest2x(x));
        }
    }
}
