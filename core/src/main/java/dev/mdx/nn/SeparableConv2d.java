package dev.mdx.nn;

import ai.djl.ndarray.NDArray;

/**
 * Depthwise-separable convolution (MobileDiffusion C1): a per-channel k x k conv without bias ({@code depthwise},
 * weight (in, 1, k, k)) followed by a 1x1 conv with bias ({@code pointwise}, weight (out, in, 1, 1)). One bias,
 * after the pointwise conv, as in Keras' SeparableConv2D: a depthwise bias would fold into it.
 */
public final class SeparableConv2d extends Module implements ConvLayer {
    private final Conv2d depthwise;
    private final Conv2d pointwise;

    public SeparableConv2d(int in, int out, int kernel, int stride, int padding) {
        this.depthwise = child("depthwise", new Conv2d(in, in, kernel, stride, padding, in, false));
        this.pointwise = child("pointwise", new Conv2d(in, out, 1, 1, 0, 1, true));
    }

    @Override
    public NDArray forward(NDArray x) {
        return pointwise.forward(depthwise.forward(x));
    }

    @Override
    public int in() {
        return depthwise.in();
    }

    @Override
    public int out() {
        return pointwise.out();
    }
}
