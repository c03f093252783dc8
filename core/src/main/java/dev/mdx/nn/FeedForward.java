package dev.mdx.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.mdx.tensor.Ops;

/**
 * diffusers' {@code FeedForward}: {@code net.0.proj} (the activation's input projection), {@code net.1} dropout
 * (no weights), {@code net.2} the output projection inner -> dim.
 */
public final class FeedForward extends Module {
    private final Projection in;
    private final Linear out;

    public FeedForward(int dim, int innerDim, FeedForwardActivation activation) {
        Net net = child("net", new Net());
        this.in = net.add(0, new Projection(dim, innerDim, activation));
        this.out = net.add(2, new Linear(innerDim, dim, true));
    }

    /** (..., dim) -> (..., dim). */
    public NDArray forward(NDArray x) {
        return out.forward(in.forward(x));
    }

    /** torch.nn.Sequential naming: children are the layer indices, and dropout leaves a gap. */
    private static final class Net extends Module {
        <M extends Module> M add(int index, M module) {
            return child(Integer.toString(index), module);
        }
    }

    /** diffusers' GEGLU / SwiGLU / GELU modules: one Linear {@code proj} then the activation. */
    private static final class Projection extends Module {
        private final Linear proj;
        private final FeedForwardActivation activation;

        Projection(int dim, int innerDim, FeedForwardActivation activation) {
            this.activation = activation;
            this.proj = child("proj", new Linear(dim, activation.gated() ? 2 * innerDim : innerDim, true));
        }

        NDArray forward(NDArray x) {
            NDArray h = proj.forward(x);
            if (!activation.gated()) {
                return Ops.gelu(h);
            }
            // (..., 2*inner) -> value half (first), gate half (second)
            NDList halves = h.split(2, h.getShape().dimension() - 1);
            NDArray gate = activation == FeedForwardActivation.GEGLU ? Ops.gelu(halves.get(1)) : Ops.silu(halves.get(1));
            return halves.get(0).mul(gate);
        }
    }
}
