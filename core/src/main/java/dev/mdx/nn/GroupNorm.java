package dev.mdx.nn;

import ai.djl.ndarray.NDArray;
import dev.mdx.tensor.Ops;

/** torch.nn.GroupNorm with affine weight and bias per channel. */
public final class GroupNorm extends Module {
    private final int groups;
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;

    public GroupNorm(int groups, int channels, float eps) {
        if (channels % groups != 0) {
            throw new IllegalArgumentException(channels + " channels are not divisible into " + groups + " groups");
        }
        this.groups = groups;
        this.eps = eps;
        this.weight = parameter("weight", channels);
        this.bias = parameter("bias", channels);
    }

    public int groups() {
        return groups;
    }

    public float eps() {
        return eps;
    }

    public NDArray forward(NDArray x) {
        return Ops.groupNorm(x, groups, weight.get(), bias.get(), eps);
    }
}
