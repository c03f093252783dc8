package dev.mdx.nn;

import ai.djl.ndarray.NDArray;
import dev.mdx.tensor.Ops;

/** diffusers' {@code TimestepEmbedding}: {@code linear_1} -> SiLU -> {@code linear_2}. */
public final class TimestepEmbedding extends Module {
    private final Linear linear1;
    private final Linear linear2;

    public TimestepEmbedding(int in, int dim) {
        this.linear1 = child("linear_1", new Linear(in, dim, true));
        this.linear2 = child("linear_2", new Linear(dim, dim, true));
    }

    /** (B, in) -> (B, dim). */
    public NDArray forward(NDArray x) {
        return linear2.forward(Ops.silu(linear1.forward(x)));
    }

    public int dim() {
        return linear2.out();
    }
}
