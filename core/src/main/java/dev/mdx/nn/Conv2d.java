package dev.mdx.nn;

import ai.djl.ndarray.NDArray;
import dev.mdx.tensor.Ops;
import dev.mdx.tensor.Precision;

/** 2-D convolution with a square kernel, keys {@code weight} (out, in/groups, k, k) and {@code bias}. */
public final class Conv2d extends Module implements ConvLayer {
    private final Parameter weight;
    private final Parameter bias;
    private final int in;
    private final int out;
    private final int kernel;
    private final int stride;
    private final int padding;
    private final int groups;
    private final Bf16Weights bf16 = new Bf16Weights();

    public Conv2d(int in, int out, int kernel, int stride, int padding) {
        this(in, out, kernel, stride, padding, 1, true);
    }

    public Conv2d(int in, int out, int kernel, int stride, int padding, int groups, boolean bias) {
        if (in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("channels " + in + "->" + out + " not divisible by groups " + groups);
        }
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.groups = groups;
        this.weight = parameter("weight", out, in / groups, kernel, kernel);
        this.bias = bias ? parameter("bias", out) : null;
    }

    /** (B, in, H, W) -> (B, out, H', W'). */
    @Override
    public NDArray forward(NDArray x) {
        if (Precision.bf16Active()) {
            NDArray[] w = bf16.of(weight.get(), bias == null ? null : bias.get());
            NDArray y = Ops.conv2dBf16(x, w[0], w[1], stride, padding, groups);
            if (y != null) {
                return y;
            }
        }
        return Ops.conv2d(x, weight.get(), bias == null ? null : bias.get(), stride, padding, groups);
    }

    @Override
    public int in() {
        return in;
    }

    @Override
    public int out() {
        return out;
    }

    public int kernel() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return padding;
    }

    public int groups() {
        return groups;
    }
}
