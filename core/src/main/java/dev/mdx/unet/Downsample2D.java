package dev.mdx.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.Module;

/**
 * diffusers' {@code Downsample2D} with a conv: 3x3 stride 2 with {@code downsample_padding}; padding 0 first pads
 * one zero column and row on the right and bottom, as diffusers does.
 */
public final class Downsample2D extends Module {
    private final Conv2d conv;
    private final boolean padRightBottom;

    public Downsample2D(int channels, int padding) {
        this.conv = child("conv", new Conv2d(channels, channels, 3, 2, padding));
        this.padRightBottom = padding == 0;
    }

    /** (B, C, H, W) -> (B, C, ceil(H/2), ceil(W/2)) with padding 1. */
    public NDArray forward(NDArray x) {
        // torch pad order: (W left, W right, H top, H bottom)
        NDArray in = padRightBottom ? x.pad(new Shape(0, 1, 0, 1), 0) : x;
        return conv.forward(in);
    }
}
