package dev.mdx.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;

/** diffusers DownEncoderBlock2D: resnets, then (except on the last level) a stride-2 downsampling conv. */
final class VaeDownEncoderBlock extends Module {
    private final ModuleList<VaeResnetBlock> resnets;
    private final Downsample downsample;

    VaeDownEncoderBlock(int in, int out, int layers, int groups, boolean addDownsample) {
        resnets = child("resnets", new ModuleList<>());
        for (int j = 0; j < layers; j++) {
            resnets.add(new VaeResnetBlock(j == 0 ? in : out, out, groups));
        }
        if (addDownsample) {
            ModuleList<Downsample> downsamplers = child("downsamplers", new ModuleList<>());
            downsample = downsamplers.add(new Downsample(out));
        } else {
            downsample = null;
        }
    }

    /** (B, in, H, W) -> (B, out, H/2, W/2), or (B, out, H, W) on the last level. */
    NDArray forward(NDArray x) {
        NDArray h = x;
        for (VaeResnetBlock r : resnets.items()) {
            h = r.forward(h);
        }
        return downsample == null ? h : downsample.forward(h);
    }

    /**
     * diffusers Downsample2D with padding 0: an explicit zero pad of one column on the right and one row at the
     * bottom, then a 3x3 stride-2 conv without padding (the original LDM layout, asymmetric on purpose).
     */
    static final class Downsample extends Module {
        private final Conv2d conv;

        Downsample(int channels) {
            conv = child("conv", new Conv2d(channels, channels, 3, 2, 0));
        }

        NDArray forward(NDArray x) {
            // (left, right, top, bottom) as torch.nn.functional.pad lists them, last dimension first
            NDArray padded = x.pad(new Shape(0, 1, 0, 1), 0);
            return conv.forward(padded);
        }
    }
}
