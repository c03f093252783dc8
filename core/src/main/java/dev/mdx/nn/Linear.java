package dev.mdx.nn;

import ai.djl.ndarray.NDArray;
import dev.mdx.tensor.Ops;
import dev.mdx.tensor.Precision;

/** y = x W^T + b with W of shape (out, in), keys {@code weight}, {@code bias}. */
public final class Linear extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final int in;
    private final int out;
    private final Bf16Weights bf16 = new Bf16Weights();

    public Linear(int in, int out, boolean bias) {
        this.in = in;
        this.out = out;
        this.weight = parameter("weight", out, in);
        this.bias = bias ? parameter("bias", out) : null;
    }

    public NDArray forward(NDArray x) {
        if (Precision.bf16Active()) {
            NDArray[] w = bf16.of(weight.get(), bias == null ? null : bias.get());
            return Ops.linearBf16(x, w[0], w[1]);
        }
        return Ops.linear(x, weight.get(), bias == null ? null : bias.get());
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }
}
