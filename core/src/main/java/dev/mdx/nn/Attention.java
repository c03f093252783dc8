package dev.mdx.nn;

import ai.djl.ndarray.NDArray;
import dev.mdx.tensor.Ops;

/**
 * diffusers' {@code Attention} (AttnProcessor): {@code to_q}, {@code to_k}, {@code to_v} without bias and
 * {@code to_out.0} with bias. With {@link Spec#sharedKv()} one projection {@code to_kv} gives both keys and values
 * (MobileDiffusion T3: K = V = s W_kv).
 */
public final class Attention extends Module {
    /**
     * @param queryDim width of the queries' source and of the output
     * @param contextDim width of the keys' and values' source; equals queryDim for self-attention
     * @param heads number of heads
     * @param headDim width of one head
     * @param kind how scores become weights (softmax, ReLU)
     * @param sharedKv one {@code to_kv} projection instead of {@code to_k} and {@code to_v}
     */
    public record Spec(int queryDim, int contextDim, int heads, int headDim, Ops.AttentionKind kind, boolean sharedKv) {
        public Spec {
            if (queryDim <= 0 || contextDim <= 0 || heads <= 0 || headDim <= 0) {
                throw new IllegalArgumentException("attention dims must be positive: " + queryDim + ", " + contextDim
                        + ", heads " + heads + ", head dim " + headDim);
            }
            if (kind == null) {
                throw new IllegalArgumentException("attention kind is null");
            }
        }

        public int innerDim() {
            return heads * headDim;
        }
    }

    private final Spec spec;
    private final Linear toQ;
    private final Linear toK;
    private final Linear toV;
    private final Linear toKv;
    private final Linear toOut;

    public Attention(Spec spec) {
        this.spec = spec;
        int inner = spec.innerDim();
        this.toQ = child("to_q", new Linear(spec.queryDim(), inner, false));
        if (spec.sharedKv()) {
            this.toKv = child("to_kv", new Linear(spec.contextDim(), inner, false));
            this.toK = null;
            this.toV = null;
        } else {
            this.toKv = null;
            this.toK = child("to_k", new Linear(spec.contextDim(), inner, false));
            this.toV = child("to_v", new Linear(spec.contextDim(), inner, false));
        }
        ModuleList<Linear> out = child("to_out", new ModuleList<>());
        this.toOut = out.add(new Linear(inner, spec.queryDim(), true));
    }

    /**
     * @param x (B, Nq, queryDim)
     * @param context (B, Nk, contextDim), or null for self-attention
     * @return (B, Nq, queryDim)
     */
    public NDArray forward(NDArray x, NDArray context) {
        NDArray source = context == null ? x : context;
        NDArray q = toQ.forward(x);
        NDArray k;
        NDArray v;
        if (toKv != null) {
            k = toKv.forward(source);
            v = k;
        } else {
            k = toK.forward(source);
            v = toV.forward(source);
        }
        return toOut.forward(Ops.attention(q, k, v, spec.heads(), spec.kind(), null));
    }

    public Spec spec() {
        return spec;
    }
}
