package dev.mdx.nn;

import ai.djl.ndarray.NDArray;
import dev.mdx.tensor.Ops;

/** torch.nn.LayerNorm over the last dimension. */
public final class LayerNorm extends Module {
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;

    public LayerNorm(int dim, float eps) {
        this.eps = eps;
        this.weight = parameter("weight", dim);
        this.bias = parameter("bias", dim);
    }

    public float eps() {
        return eps;
    }

    public NDArray forward(NDArray x) {
        return Ops.layerNorm(x, weight.get(), bias.get(), eps);
    }
}
