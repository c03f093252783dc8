package dev.mdx.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.mdx.nn.GroupNorm;
import dev.mdx.nn.Linear;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;
import dev.mdx.tensor.Ops;
import dev.mdx.tensor.Scopes;

/**
 * The VAE mid block's single-head spatial self-attention (diffusers Attention with group_norm and a residual):
 * x + to_out(softmax(q k^T / sqrt(C)) v) with q, k, v projected from GroupNorm(x) over all H*W positions.
 */
final class VaeAttention extends Module {
    private final GroupNorm groupNorm;
    private final Linear toQ;
    private final Linear toK;
    private final Linear toV;
    private final Linear toOut;

    VaeAttention(int channels, int groups) {
        groupNorm = child("group_norm", new GroupNorm(groups, channels, VaeConfig.NORM_EPS));
        toQ = child("to_q", new Linear(channels, channels, true));
        toK = child("to_k", new Linear(channels, channels, true));
        toV = child("to_v", new Linear(channels, channels, true));
        ModuleList<Linear> out = child("to_out", new ModuleList<>());
        toOut = out.add(new Linear(channels, channels, true));
    }

    /** (B, C, H, W) -> (B, C, H, W). */
    NDArray forward(NDArray x) {
        return Scopes.run(() -> compute(x), x);
    }

    private NDArray compute(NDArray x) {
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long h = s.get(2);
        long w = s.get(3);
        // (B, C, H, W) -> (B, H*W, C)
        NDArray seq = groupNorm.forward(x).reshape(b, c, h * w).transpose(0, 2, 1);
        NDArray attended = Ops.attention(toQ.forward(seq), toK.forward(seq), toV.forward(seq), 1,
                Ops.AttentionKind.SOFTMAX, null);
        // (B, H*W, C) -> (B, C, H, W)
        NDArray out = toOut.forward(attended).transpose(0, 2, 1).reshape(b, c, h, w);
        return out.add(x);
    }
}
