package dev.mdx.unet;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.Module;
import dev.mdx.tensor.Ops;

/** diffusers' {@code Upsample2D} with a conv: nearest-neighbour resize then a 3x3 conv. */
public final class Upsample2D extends Module {
    private final Conv2d conv;

    public Upsample2D(int channels) {
        this.conv = child("conv", new Conv2d(channels, channels, 3, 1, 1));
    }

    /** (B, C, H, W) -> (B, C, outH, outW); outH = 2H and outW = 2W unless the skip connection is odd-sized. */
    public NDArray forward(NDArray x, long outH, long outW) {
        long h = x.getShape().get(2);
        long w = x.getShape().get(3);
        NDArray up = outH == 2 * h && outW == 2 * w ? Ops.upsampleNearest2x(x) : Ops.upsampleNearest(x, outH, outW);
        return conv.forward(up);
    }
}
