package dev.mdx.text;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Linear;
import dev.mdx.nn.Module;
import dev.mdx.tensor.Ops;

/** transformers CLIPAttention: multi-head self-attention with biased q/k/v/out projections. */
final class ClipAttention extends Module {
    private final int heads;
    private final Linear qProj;
    private final Linear kProj;
    private final Linear vProj;
    private final Linear outProj;

    ClipAttention(int hidden, int heads) {
        this.heads = heads;
        kProj = child("k_proj", new Linear(hidden, hidden, true));
        vProj = child("v_proj", new Linear(hidden, hidden, true));
        qProj = child("q_proj", new Linear(hidden, hidden, true));
        outProj = child("out_proj", new Linear(hidden, hidden, true));
    }

    /** (B, L, D) with an additive mask broadcastable to (B, H, L, L) -> (B, L, D). */
    NDArray forward(NDArray x, NDArray mask) {
        NDArray attended = Ops.attention(qProj.forward(x), kProj.forward(x), vProj.forward(x), heads,
                Ops.AttentionKind.SOFTMAX, mask);
        return outProj.forward(attended);
    }
}
