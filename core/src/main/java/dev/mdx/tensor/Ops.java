package dev.mdx.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * The composite operations of the engine, in one place so that a fused kernel can replace any of them.
 *
 * <p>Memory rule: every result lives in the manager of the activation {@code x}, never in the manager of a
 * weight. DJL puts a result in the manager of the array whose method is called, so weights are only ever
 * passed as arguments, and any view of a weight is attached to the activation's manager.
 */
public final class Ops {
    private Ops() {}

    /** y = x W^T + b, W is (out, in) as in PyTorch; b may be null. Works on any leading shape. */
    public static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        if (FlopCounter.active()) {
            FlopCounter.add(2 * x.getShape().size() * weight.getShape().get(0));
        }
        return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
    }

    /** 2-D convolution, NCHW, weight (out, in/groups, kh, kw); bias may be null. */
    public static NDArray conv2d(NDArray x, NDArray weight, NDArray bias, int stride, int padding, int groups) {
        NDList out = x.getNDArrayInternal().convolution(x, weight, bias,
                new Shape(stride, stride), new Shape(padding, padding), new Shape(1, 1), groups);
        NDArray y = out.singletonOrThrow();
        if (FlopCounter.active()) {
            Shape w = weight.getShape();
            FlopCounter.add(2 * y.getShape().size() * w.get(1) * w.get(2) * w.get(3));
        }
        return y;
    }

    /** A view of a weight with another shape, owned by the activation's manager so it is freed with it. */
    public static NDArray weightView(NDArray weight, NDArray activation, long... shape) {
        NDArray view = weight.reshape(shape);
        view.attach(activation.getManager());
        return view;
    }

    /**
     * GroupNorm over (B, C, ...) with per-channel affine weight and bias; biased variance as in PyTorch.
     */
    public static NDArray groupNorm(NDArray x, int groups, NDArray weight, NDArray bias, float eps) {
        Shape shape = x.getShape();
        long b = shape.get(0);
        long c = shape.get(1);
        // (B, C, H, W) -> (B, G, C/G*H*W)
        NDArray grouped = x.reshape(b, groups, -1);
        NDArray mean = grouped.mean(new int[] {2}, true);
        NDArray centered = grouped.sub(mean);
        NDArray var = centered.square().mean(new int[] {2}, true);
        NDArray normed = centered.div(var.add(eps).sqrt()).reshape(shape);
        long[] affineShape = new long[shape.dimension()];
        java.util.Arrays.fill(affineShape, 1);
        affineShape[1] = c;
        return normed.mul(weightView(weight, x, affineShape)).add(weightView(bias, x, affineShape));
    }

    /** LayerNorm over the last dimension. */
    public static NDArray layerNorm(NDArray x, NDArray weight, NDArray bias, float eps) {
        Shape normalized = new Shape(x.getShape().get(x.getShape().dimension() - 1));
        return x.getNDArrayInternal().layerNorm(x, normalized, weight, bias, eps).singletonOrThrow();
    }

    /** SiLU / Swish: x * sigmoid(x). */
    public static NDArray silu(NDArray x) {
        return x.mul(x.getNDArrayInternal().sigmoid());
    }

    /** GELU with the exact erf form (PyTorch's default, used by diffusers' GEGLU). */
    public static NDArray gelu(NDArray x) {
        return x.getNDArrayInternal().gelu();
    }

    /** CLIP's quick_gelu: x * sigmoid(1.702 x). */
    public static NDArray quickGelu(NDArray x) {
        return x.mul(x.mul(1.702f).getNDArrayInternal().sigmoid());
    }

    /** Nearest-neighbour upsampling by 2 in H and W: (B, C, H, W) -> (B, C, 2H, 2W). */
    public static NDArray upsampleNearest2x(NDArray x) {
        return x.repeat(2, 2).repeat(3, 2);
    }

    /**
     * Nearest-neighbour resize to (outH, outW) as torch's interpolate(mode='nearest'): source index
     * floor(dst * in / out). Used where a skip connection has an odd size, so 2x upsampling does not fit.
     */
    public static NDArray upsampleNearest(NDArray x, long outH, long outW) {
        return x.getNDArrayInternal().interpolation(new long[] {outH, outW}, 0, false);
    }

    /** How attention weights are formed from the scaled scores. */
    public enum AttentionKind {
        /** softmax(Q K^T / sqrt(d)). */
        SOFTMAX,
        /** ReLU(Q K^T / sqrt(d)) / N_k (paper-notes 2.2, T5). */
        RELU
    }

    /**
     * Score elements (B * H * Nq * Nk) above which attention runs in query chunks: a 64x64 latent's self-attention
     * has 8 x 4096 x 4096 scores (512 MB per intermediate); chunks of this size stay in cache and are freed one by
     * one. Mutable for tests that exercise the chunked path on small inputs.
     */
    static long chunkScoreElements = 1L << 21;

    /**
     * Multi-head attention on already projected tensors.
     *
     * @param q (B, Nq, H*D)
     * @param k (B, Nk, H*D)
     * @param v (B, Nk, H*D)
     * @param mask additive mask broadcastable to (B, H, Nq, Nk), or null
     * @return (B, Nq, H*D)
     */
    public static NDArray attention(NDArray q, NDArray k, NDArray v, int heads, AttentionKind kind, NDArray mask) {
        long b = q.getShape().get(0);
        long nq = q.getShape().get(1);
        long nk = k.getShape().get(1);
        long inner = q.getShape().get(2);
        long d = inner / heads;
        if (FlopCounter.active()) {
            FlopCounter.add(2 * 2 * b * heads * nq * nk * d); // Q K^T and A V
        }
        // (B, N, H*D) -> (B, H, N, D); the 1/sqrt(d) scale goes on Q, the smallest operand
        NDArray qh = q.reshape(b, nq, heads, d).transpose(0, 2, 1, 3).mul((float) (1.0 / Math.sqrt(d)));
        NDArray kt = k.reshape(b, nk, heads, d).transpose(0, 2, 3, 1);
        NDArray vh = v.reshape(b, nk, heads, d).transpose(0, 2, 1, 3);
        long rowsPerChunk = Math.max(1, chunkScoreElements / (b * heads * nk));
        NDArray out;
        if (mask != null || rowsPerChunk >= nq) {
            out = attend(qh, kt, vh, kind, mask, nk);
        } else {
            NDList parts = new NDList();
            for (long start = 0; start < nq; start += rowsPerChunk) {
                NDIndex rows = new NDIndex(":, :, {}:{}", start, Math.min(nq, start + rowsPerChunk));
                parts.add(Scopes.run(() -> attend(qh.get(rows), kt, vh, kind, null, nk), qh, kt, vh));
            }
            out = NDArrays.concat(parts, 2);
        }
        // (B, H, Nq, D) -> (B, Nq, H*D)
        return out.transpose(0, 2, 1, 3).reshape(b, nq, inner);
    }

    /** (B, H, n, D) scaled queries against all keys -> (B, H, n, D). */
    private static NDArray attend(NDArray qh, NDArray kt, NDArray vh, AttentionKind kind, NDArray mask, long nk) {
        NDArray scores = qh.matMul(kt);
        if (mask != null) {
            scores = scores.add(mask);
        }
        NDArray weights = kind == AttentionKind.SOFTMAX
                ? scores.softmax(-1)
                : scores.getNDArrayInternal().relu().div((float) nk);
        return weights.matMul(vh);
    }
}
