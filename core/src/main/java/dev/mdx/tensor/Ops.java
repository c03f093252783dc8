package dev.mdx.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
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
 *
 * <p>Autograd rule: never call DJL's {@code mul(Number)} / {@code div(Number)} (or pow, maximum, minimum with a
 * Number) on a value that gradients flow through; use {@link #mulScalar} / {@link #divScalar}. DJL 0.36 backs that
 * scalar with a Java direct buffer and closes it right after the op, while PyTorch's autograd keeps the scalar
 * tensor for the backward pass, which then reads freed memory (garbage or NaN gradients, depending on GC timing).
 * {@code add(Number)} / {@code sub(Number)} are safe: their backward does not read the scalar.
 */
public final class Ops {
    /** Conv channel counts that oneDNN handles correctly: see conv2dPaddedOut and padChannels. */
    private static final int CONV_SAFE_OUT_CHANNELS = 16;

    private Ops() {}

    /** x * value, with the scalar allocated by libtorch so that the backward pass can read it (see class doc). */
    public static NDArray mulScalar(NDArray x, double value) {
        return x.mul(scalarLike(x, value));
    }

    /** x / value, with the scalar allocated by libtorch so that the backward pass can read it (see class doc). */
    public static NDArray divScalar(NDArray x, double value) {
        return x.div(scalarLike(x, value));
    }

    private static NDArray scalarLike(NDArray x, double value) {
        return x.getManager().full(new Shape(), (float) value, x.getDataType());
    }

    /** y = x W^T + b, W is (out, in) as in PyTorch; b may be null. Works on any leading shape. */
    public static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        if (FlopCounter.active()) {
            FlopCounter.add(2 * x.getShape().size() * weight.getShape().get(0));
        }
        return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
    }

    /**
     * {@link #linear} in bfloat16 ({@link Precision#BF16}): x fp32, W and b bfloat16 copies of the layer's weights
     * (b may be null); the result is fp32.
     */
    public static NDArray linearBf16(NDArray x, NDArray weightBf16, NDArray biasBf16) {
        if (FlopCounter.active()) {
            FlopCounter.add(2 * x.getShape().size() * weightBf16.getShape().get(0));
        }
        return ScriptedOps.linearBf16(x, weightBf16, biasBf16);
    }

    /**
     * {@link #conv2d} in bfloat16 where it can run so: x fp32, W and b bfloat16 copies (b may be null), the result
     * fp32. Returns null where oneDNN's bf16 kernel is wrong or the fp32 path's channel padding would be needed
     * (see padChannels; the bf16 arrays cannot be padded through DJL), so the caller runs fp32 there: libtorch
     * 2.7.1's bf16 forward k x k conv (k > 1) is off by 13-30% (relative RMS) when the output channel count is not
     * a multiple of 16 (out 3, 4, 8, 24 measured; 16, 32, 48, 64 and 1x1 convs are right): a model's conv_out.
     */
    public static NDArray conv2dBf16(NDArray x, NDArray weightBf16, NDArray biasBf16, int stride, int padding,
            int groups) {
        Shape w = weightBf16.getShape();
        long in = w.get(1);
        boolean spatial = w.get(2) > 1;
        if (spatial && w.get(0) % CONV_SAFE_OUT_CHANNELS != 0) {
            return null;
        }
        if (groups == 1 && spatial && x.getShape().get(0) > 1 && in > CONV_SAFE_OUT_CHANNELS
                && in % CONV_SAFE_OUT_CHANNELS != 0) {
            return null;
        }
        NDArray y = ScriptedOps.conv2dBf16(x, weightBf16, biasBf16, stride, padding, groups);
        if (FlopCounter.active()) {
            FlopCounter.add(2 * y.getShape().size() * in * w.get(2) * w.get(3));
        }
        return y;
    }

    /** 2-D convolution, NCHW, weight (out, in/groups, kh, kw); bias may be null. */
    public static NDArray conv2d(NDArray x, NDArray weight, NDArray bias, int stride, int padding, int groups) {
        long out = weight.getShape().get(0);
        long in = weight.getShape().get(1);
        boolean spatial = weight.getShape().get(2) > 1;
        if (groups == 1 && spatial && x.getShape().get(0) > 1 && in > CONV_SAFE_OUT_CHANNELS
                && in % CONV_SAFE_OUT_CHANNELS != 0) {
            weight = padChannels(weight, x);
            x = padChannels(x, x);
        }
        if (groups == 1 && out % CONV_SAFE_OUT_CHANNELS != 0 && spatial && JniUtils.isGradMode()) {
            return conv2dPaddedOut(x, weight, bias, stride, padding, in);
        }
        return convolution(x, weight, bias, stride, padding, groups, in);
    }

    /**
     * libtorch 2.7.1's oneDNN float32 forward k x k conv (k > 1) gives wrong results (off by 10-20 on unit-normal
     * inputs, or NaN, from memory it does not initialise) at batch 2 or more when the input has more than 16
     * channels and not a multiple of 16 (e.g. 24 = 16 + 8 in a small UNet's up block); batch 1 and multiples of 16
     * are right. Zero input channels (and zero weight columns) up to that multiple give the exact result.
     * (B, C, H, W) or (O, C, k, k) -> (., C', ., .), C' the next multiple of 16, in {@code activation}'s manager.
     */
    private static NDArray padChannels(NDArray t, NDArray activation) {
        Shape s = t.getShape();
        long extra = CONV_SAFE_OUT_CHANNELS - s.get(1) % CONV_SAFE_OUT_CHANNELS;
        NDArray zeros = activation.getManager().zeros(new Shape(s.get(0), extra, s.get(2), s.get(3)), t.getDataType());
        NDArray padded = NDArrays.concat(new NDList(t, zeros), 1);
        padded.attach(activation.getManager());
        return padded;
    }

    /** @param countedIn input channels per group to count FLOPs for (the real ones when zeros were padded in) */
    private static NDArray convolution(NDArray x, NDArray weight, NDArray bias, int stride, int padding, int groups,
            long countedIn) {
        NDList out = x.getNDArrayInternal().convolution(x, weight, bias,
                new Shape(stride, stride), new Shape(padding, padding), new Shape(1, 1), groups);
        NDArray y = out.singletonOrThrow();
        if (FlopCounter.active()) {
            Shape w = weight.getShape();
            FlopCounter.add(2 * y.getShape().size() * countedIn * w.get(2) * w.get(3));
        }
        return y;
    }

    /**
     * libtorch 2.7.1's oneDNN (float32, on this project's AVX-512 CPUs) computes a wrong input gradient, with garbage and NaN from
     * uninitialised memory, for k x k convs (k > 1) whose output channel count is not a multiple of 16 (e.g. a
     * UNet's conv_out to 4 latent channels). Zero output channels are appended up to that multiple and cut off
     * again, which gives the exact result and a correct backward pass. Only taken while autograd records (inside a
     * GradientCollector), since inference is unaffected.
     */
    private static NDArray conv2dPaddedOut(NDArray x, NDArray weight, NDArray bias, int stride, int padding,
            long countedIn) {
        Shape ws = weight.getShape();
        long out = ws.get(0);
        long extra = CONV_SAFE_OUT_CHANNELS - out % CONV_SAFE_OUT_CHANNELS;
        NDArray zerosW = x.getManager().zeros(new Shape(extra, ws.get(1), ws.get(2), ws.get(3)), weight.getDataType());
        // (out, in, k, k) ++ (extra, in, k, k), moved to the activation's manager
        NDArray paddedW = NDArrays.concat(new NDList(weight, zerosW), 0);
        paddedW.attach(x.getManager());
        NDArray paddedB = null;
        if (bias != null) {
            paddedB = NDArrays.concat(new NDList(bias, x.getManager().zeros(new Shape(extra), bias.getDataType())), 0);
            paddedB.attach(x.getManager());
        }
        NDArray y = convolution(x, paddedW, paddedB, stride, padding, 1, countedIn);
        return y.get(new NDIndex(":, :{}", out));
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
        if (ScriptedOps.usable()) {
            return ScriptedOps.groupNorm(x, groups, weight, bias, eps); // one fused kernel instead of seven passes
        }
        return groupNormComposite(x, groups, weight, bias, eps);
    }

    /** {@link #groupNorm} from elementary ops: what training differentiates, and the tests' reference. */
    static NDArray groupNormComposite(NDArray x, int groups, NDArray weight, NDArray bias, float eps) {
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

    /** ReLU: max(x, 0). */
    public static NDArray relu(NDArray x) {
        return x.getNDArrayInternal().relu();
    }

    /** Max pooling over non-overlapping k x k windows, (B, C, H, W) -> (B, C, H/k, W/k) (floor, as torch's default). */
    public static NDArray maxPool2d(NDArray x, int k) {
        return x.getNDArrayInternal().maxPool(new Shape(k, k), new Shape(k, k), new Shape(0, 0), false);
    }

    /** GELU with the exact erf form (PyTorch's default, used by diffusers' GEGLU). */
    public static NDArray gelu(NDArray x) {
        return x.getNDArrayInternal().gelu();
    }

    /** CLIP's quick_gelu: x * sigmoid(1.702 x). */
    public static NDArray quickGelu(NDArray x) {
        return x.mul(mulScalar(x, 1.702).getNDArrayInternal().sigmoid());
    }

    /** Nearest-neighbour upsampling by 2 in H and W: (B, C, H, W) -> (B, C, 2H, 2W). */
    public static NDArray upsampleNearest2x(NDArray x) {
        return x.repeat(2, 2).repeat(3, 2);
    }

    /** (B, C, H, W) -> (B, C f^2, H/f, W/f), torch's pixel_unshuffle channel order (space-to-depth). */
    public static NDArray pixelUnshuffle(NDArray x, int f) {
        if (f == 1) {
            return x;
        }
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long h = s.get(2) / f;
        long w = s.get(3) / f;
        // (B, C, h, f, w, f) -> (B, C, f, f, h, w)
        return x.reshape(b, c, h, f, w, f).transpose(0, 1, 3, 5, 2, 4).reshape(b, c * f * f, h, w);
    }

    /**
     * (B, C f^2, H, W) -> (B, C, H f, W f), torch's pixel_shuffle (ONNX DepthToSpace in CRD mode): output channel
     * c at (y f + i, x f + j) is input channel c f^2 + i f + j at (y, x).
     */
    public static NDArray pixelShuffle(NDArray x, int f) {
        if (f == 1) {
            return x;
        }
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1) / ((long) f * f);
        long h = s.get(2);
        long w = s.get(3);
        // (B, C, f, f, H, W) -> (B, C, H, f, W, f)
        return x.reshape(b, c, f, f, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(b, c, h * f, w * f);
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
     * has 8 x 4096 x 4096 scores (512 MB per intermediate, whose softmax alone took 1.0 s idle); chunks of this size
     * (4 MB) stay in cache and are freed one by one. Measured idle on SD-1.5's shape (8 heads of 40, 4096 tokens):
     * 2^19 elements 278-314 ms, 2^20 247-271 ms, 2^21 286-298 ms. Mutable for tests of the chunked path.
     */
    static long chunkScoreElements = 1L << 20;

    /** Whether softmax attention uses the fused kernel when it can; mutable for tests of the composite path. */
    static boolean fused = true;

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
        // Scaling the queries instead of the (B, H, Nq, Nk) scores saves a pass over the largest array;
        // without a mask ReLU(s) / Nk = ReLU(s / Nk), so that factor is folded in as well.
        boolean foldKeyCount = kind == AttentionKind.RELU && mask == null;
        double factor = 1.0 / Math.sqrt(d) / (foldKeyCount ? nk : 1);
        // (B, N, H*D) -> (B, H, N, D)
        NDArray qh = mulScalar(q, factor).reshape(b, nq, heads, d).transpose(0, 2, 1, 3);
        NDArray vh = v.reshape(b, nk, heads, d).transpose(0, 2, 1, 3);
        if (kind == AttentionKind.SOFTMAX && fused && ScriptedOps.usable()) {
            // libtorch's fused kernel (flash attention on CPU): no (Nq, Nk) score arrays, no chunking needed
            NDArray kh = k.reshape(b, nk, heads, d).transpose(0, 2, 1, 3);
            return ScriptedOps.attention(qh, kh, vh, mask, mask == null && Precision.bf16Active())
                    .transpose(0, 2, 1, 3).reshape(b, nq, inner);
        }
        NDArray kt = k.reshape(b, nk, heads, d).transpose(0, 2, 3, 1);
        long rowsPerChunk = Math.max(1, chunkScoreElements / (b * heads * nk));
        NDArray out;
        if (mask != null || rowsPerChunk >= nq) {
            out = attend(qh, kt, vh, kind, mask, !foldKeyCount, nk);
        } else {
            out = attendInChunks(qh, kt, vh, kind, !foldKeyCount, nk, rowsPerChunk);
        }
        // (B, H, Nq, D) -> (B, Nq, H*D)
        return out.transpose(0, 2, 1, 3).reshape(b, nq, inner);
    }

    /**
     * Unmasked attention over query chunks of {@code rows} rows, each chunk's scores freed before the next. Every
     * chunk allocates the same arrays and frees them all, writing its result into one preallocated output: chunk
     * results kept until a final concatenation sat between the freed chunks' blocks in glibc's heap, which then
     * could not reuse them, so resident memory grew by about one chunk's scores per chunk: SD-1.5's 64x64
     * self-attention at batch 2 alone peaked at 3.0 GB (0.35 GB this way). Keys and values are copied into the
     * batched layout once, not by each chunk's two matmuls.
     *
     * @param qh (B, H, Nq, D) scaled queries
     * @param kt (B, H, D, Nk) transposed keys
     * @param vh (B, H, Nk, D) values
     * @return (B, H, Nq, D)
     */
    private static NDArray attendInChunks(NDArray qh, NDArray kt, NDArray vh, AttentionKind kind,
            boolean divideReluByKeys, long nk, long rows) {
        Shape s = qh.getShape();
        long bh = s.get(0) * s.get(1);
        long nq = s.get(2);
        long d = s.get(3);
        // (B, H, ., .) -> (B*H, ., .), contiguous
        NDArray q3 = qh.reshape(bh, nq, d);
        NDArray k3 = kt.reshape(bh, d, nk);
        NDArray v3 = vh.reshape(bh, nk, d);
        NDArray out = qh.getManager().create(new Shape(bh, nq, d), qh.getDataType());
        for (long start = 0; start < nq; start += rows) {
            NDIndex chunk = new NDIndex(":, {}:{}", start, Math.min(nq, start + rows));
            try (NDManager scope = qh.getManager().newSubManager()) {
                scope.tempAttachAll(q3, k3, v3, out);
                out.set(chunk, attend(q3.get(chunk), k3, v3, kind, null, divideReluByKeys, nk));
            }
        }
        return out.reshape(s);
    }

    /** (B, H, n, D) scaled queries against all keys -> (B, H, n, D). */
    private static NDArray attend(NDArray qh, NDArray kt, NDArray vh, AttentionKind kind, NDArray mask,
            boolean divideReluByKeys, long nk) {
        NDArray scores = qh.matMul(kt);
        if (mask != null) {
            scores = scores.add(mask);
        }
        NDArray weights = kind == AttentionKind.SOFTMAX
                ? scores.softmax(-1)
                : scores.getNDArrayInternal().relu();
        if (kind == AttentionKind.RELU && divideReluByKeys) {
            weights = divScalar(weights, nk);
        }
        return weights.matMul(vh);
    }
}
