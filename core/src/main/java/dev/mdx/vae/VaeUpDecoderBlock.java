package dev.mdx.vae;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;
import dev.mdx.tensor.Ops;
import dev.mdx.tensor.Scopes;

/**
 * diffusers UpDecoderBlock2D: resnets, then (where the decoder config says so) an x2 upsampler: nearest x2 and a 3x3
 * conv, or a 3x3 conv to 4x the channels and a depth-to-space x2 ({@link VaeDecoderConfig.Upsampling}).
 */
final class VaeUpDecoderBlock extends Module {
    private final ModuleList<VaeResnetBlock> resnets;
    private final Upsample upsample;

    /** Up block {@code index} of the decoder {@code d}. */
    VaeUpDecoderBlock(VaeDecoderConfig d, int index) {
        int in = d.blockInChannels(index);
        int out = d.width(index);
        resnets = child("resnets", new ModuleList<>());
        for (int j = 0; j < d.layersPerBlock() + 1; j++) {
            resnets.add(new VaeResnetBlock(j == 0 ? in : out, out, d.normNumGroups()));
        }
        if (d.hasUpsampler(index)) {
            ModuleList<Upsample> upsamplers = child("upsamplers", new ModuleList<>());
            upsample = upsamplers.add(new Upsample(out, d.upsampledChannels(index), d.upsampling()));
        } else {
            upsample = null;
        }
    }

    /**
     * (B, in, H, W) -> (B, up, 2H, 2W) with an upsampler, else (B, out, H, W). Each intermediate is freed as soon as
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

    /**
     * diffusers Upsample2D with a conv (nearest-neighbour x2, then a 3x3 conv keeping the channels), or its
     * sub-pixel form: (B, C, H, W) -> 3x3 conv -> (B, 4 up, H, W) -> depth-to-space -> (B, up, 2H, 2W).
     */
    static final class Upsample extends Module {
        private final Conv2d conv;
        private final boolean shuffle;

        Upsample(int channels, int upChannels, VaeDecoderConfig.Upsampling upsampling) {
            shuffle = upsampling == VaeDecoderConfig.Upsampling.PIXEL_SHUFFLE;
            conv = child("conv", new Conv2d(channels, shuffle ? 4 * upChannels : upChannels, 3, 1, 1));
        }

        NDArray forward(NDArray x) {
            if (!shuffle) {
                return conv.forward(Ops.upsampleNearest2x(x));
            }
            return Ops.pixelShuffle(conv.forward(x), 2);
        }
    }
}
