package dev.mdx.nn;

import ai.djl.ndarray.NDArray;

/** A spatial convolution (plain or depthwise-separable), so blocks can hold either kind. */
public interface ConvLayer {
    /** (B, in, H, W) -> (B, out, H', W'). */
    NDArray forward(NDArray x);

    int in();

    int out();
}
