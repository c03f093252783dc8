package dev.mdx.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

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

    /**
     * Output channels below which a convolution is computed with zero-padded weights while gradients are recorded.
     * libtorch 2.7.1 (through DJL 0.36) returns a wrong input gradient (O(1) relative error, sometimes NaN) for
     * 3x3 stride-1 convolutions with fewer than 16 output channels and a batch above 1 on this project's CPUs, at
     * any thread count, while weight gradients and the forward pass are right (measured against float64; a VAE's
     * 3-channel conv_out sits on every backward path). With 16 or more output channels the gradient is right.
     */
    static final int SAFE_BACKWARD_OUT_CHANNELS = 16;

    /** 2-D convolution, NCHW, weight (out, in/groups, kh, kw); bias may be null. */
    public static NDArray conv2d(NDArray x, NDArray weight, NDArray bias, int stride, int padding, int groups) {
        long outChannels = weight.getShape().get(0);
        if (groups == 1 && outChannels < SAFE_BACKWARD_OUT_CHANNELS && JniUtils.isGradMode()) {
            return paddedConv2d(x, weight, bias, stride, padding);
        }
        NDList out = x.getNDArrayInternal().convolution(x, weight, bias,
                new Shape(stride, stride), new Shape(padding, padding), new Shape(1, 1), groups);
        NDArray y = out.singletonOrThrow();
        if (FlopCounter.active()) {
            Shape w = weight.getShape();
            FlopCounter.add(2 * y.getShape().size() * w.get(1) * w.get(2) * w.get(3));
        }
        return y;
    }

    /**
     * The same convolution with the weight (and bias) padded by zero output channels up to
     * {@link #SAFE_BACKWARD_OUT_CHANNELS}, then the real channels sliced out: the padding is part of the graph, so
     * the weight gradient is the padded one's first rows and the input gradient takes the correct kernel.
     */
    private static NDArray paddedConv2d(NDArray x, NDArray weight, NDArray bias, int stride, int padding) {
        Shape w = weight.getShape();
        long out = w.get(0);
        NDManager m = x.getManager();
        // (out, in, kh, kw) -> (16, in, kh, kw)
        NDArray wPadded = weight.concat(m.zeros(new Shape(SAFE_BACKWARD_OUT_CHANNELS - out, w.get(1), w.get(2),
                w.get(3)), weight.getDataType()), 0);
        wPadded.attach(m);
        NDArray bPadded = null;
        if (bias != null) {
            bPadded = bias.concat(m.zeros(new Shape(SAFE_BACKWARD_OUT_CHANNELS - out), bias.getDataType()), 0);
            bPadded.attach(m);
        }
        NDArray y = x.getNDArrayInternal().convolution(x, wPadded, bPadded, new Shape(stride, stride),
                new Shape(padding, padding), new Shape(1, 1), 1).singletonOrThrow();
        if (FlopCounter.active()) {
            FlopCounter.add(2 * y.getShape().size() * w.get(1) * w.get(2) * w.get(3));
        }
        return y.get(new NDIndex(":, 0:{}", out));
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
        return x.mul(scalarMul(x, 1.702f).getNDArrayInternal().sigmoid());
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
        // (B, N, H*D) -> (B, H, N, D)
        NDArray qh = q.reshape(b, nq, heads, d).transpose(0, 2, 1, 3);
        NDArray kt = k.reshape(b, nk, heads, d).transpose(0, 2, 3, 1);
        NDArray vh = v.reshape(b, nk, heads, d).transpose(0, 2, 1, 3);
        if (FlopCounter.active()) {
            FlopCounter.add(2 * 2 * b * heads * nq * nk * d); // Q K^T and A V
        }
        NDArray scores = scalarMul(qh.matMul(kt), (float) (1.0 / Math.sqrt(d)));
        if (mask != null) {
            scores = scores.add(mask);
        }
        NDArray weights = kind == AttentionKind.SOFTMAX
                ? scores.softmax(-1)
                : scalarDiv(scores.getNDArrayInternal().relu(), nk);
        // (B, H, Nq, D) -> (B, Nq, H*D)
        return weights.matMul(vh).transpose(0, 2, 1, 3).reshape(b, nq, inner);
    }

    /**
     * x * s, safe to differentiate. DJL's {@code mul(Number)} and {@code div(Number)} wrap s in a Java direct buffer
     * (a tensor made with from_blob) and close it as soon as the op returns; autograd has saved that tensor for
     * backward, so once the garbage collector frees the buffer, backward reads freed memory (random wrong, NaN or
     * Inf gradients, more often with a small heap). A scalar made by the engine ({@code full}) is refcounted and
     * lives as long as the graph needs it. Use these two wherever gradients flow through a scalar product.
     */
    public static NDArray scalarMul(NDArray x, float s) {
        return x.mul(engineScalar(x, s));
    }

    /** x / s, with s held by the engine as in {@link #scalarMul}. */
    public static NDArray scalarDiv(NDArray x, float s) {
        return x.div(engineScalar(x, s));
    }

    private static NDArray engineScalar(NDArray like, float value) {
        return like.getManager().full(new Shape(), value, like.getDataType());
    }
}
