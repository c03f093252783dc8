package dev.mdx.export;

import static dev.mdx.export.OnnxGraph.attr;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.FeedForwardActivation;
import dev.mdx.nn.GroupNorm;
import dev.mdx.nn.LayerNorm;
import dev.mdx.nn.Linear;
import dev.mdx.nn.Parameter;
import dev.mdx.nn.SeparableConv2d;
import dev.mdx.tensor.Ops;
import java.util.List;

/**
 * The ONNX form of mdx's building blocks (dev.mdx.nn and tensor.Ops), each the same math as its Java forward.
 * Layouts are noted where they change; B, N, C, H, W are symbolic in the graph.
 */
final class Layers {
    private final OnnxGraph g;

    Layers(OnnxGraph g) {
        this.g = g;
    }

    OnnxGraph graph() {
        return g;
    }

    /** {@link Linear}: x W^T + b on the last axis; W is stored transposed, (in, out), for MatMul. */
    String linear(ModuleRef ref, String x) {
        Linear linear = ref.as(Linear.class);
        NDArray w = ref.parameter("weight").get();
        float[] data = w.toFloatArray();
        int out = linear.out();
        int in = linear.in();
        float[] transposed = new float[data.length];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                transposed[i * out + o] = data[o * in + i];
            }
        }
        String y = g.op("MatMul", ref.key(), x, g.weight(ref.paramKey("weight.T"), transposed, in, out));
        Parameter bias = ref.parameter("bias");
        return bias == null ? y : g.op("Add", ref.key(), y, g.weight(ref.paramKey("bias"), bias.get()));
    }

    /** A {@link Conv2d} or a {@link SeparableConv2d} (depthwise then pointwise), (B, in, H, W) -> (B, out, H', W'). */
    String conv(ModuleRef ref, String x) {
        if (ref.module() instanceof SeparableConv2d) {
            return conv(ref.child("pointwise"), conv(ref.child("depthwise"), x));
        }
        int p = ref.as(Conv2d.class).padding();
        return conv(ref, x, new long[] {p, p, p, p});
    }

    /** A {@link Conv2d} with explicit ONNX pads (top, left, bottom, right). */
    String conv(ModuleRef ref, String x, long[] pads) {
        Conv2d conv = ref.as(Conv2d.class);
        Parameter bias = ref.parameter("bias");
        List<String> inputs = bias == null
                ? List.of(x, g.weight(ref.paramKey("weight"), ref.parameter("weight").get()))
                : List.of(x, g.weight(ref.paramKey("weight"), ref.parameter("weight").get()),
                        g.weight(ref.paramKey("bias"), bias.get()));
        return g.op("Conv", ref.key(), inputs,
                attr("kernel_shape", conv.kernel(), conv.kernel()),
                attr("strides", conv.stride(), conv.stride()),
                attr("pads", pads),
                attr("group", conv.groups()));
    }

    /**
     * {@link GroupNorm} over (B, C, ...): opset 17 has no GroupNormalization, so (B, C, ...) -> (B, G, C/G * ...)
     * normalized per row by InstanceNormalization (unit scale, zero bias), reshaped back and given the per-channel
     * affine, as Ops.groupNormComposite.
     */
    String groupNorm(ModuleRef ref, String x) {
        GroupNorm norm = ref.as(GroupNorm.class);
        int groups = norm.groups();
        NDArray weight = ref.parameter("weight").get();
        long channels = weight.getShape().get(0);
        float[] ones = new float[groups];
        java.util.Arrays.fill(ones, 1f);
        String grouped = g.op("Reshape", ref.key(), x, g.ints(0, groups, -1));
        String normed = g.op("InstanceNormalization", ref.key(),
                List.of(grouped, g.constant(ref.paramKey("group_scale"), ones, groups),
                        g.constant(ref.paramKey("group_bias"), new float[groups], groups)),
                attr("epsilon", norm.eps()));
        String back = g.op("Reshape", ref.key(), normed, g.op("Shape", ref.key(), x));
        // (C,) -> (C, 1, 1) so it broadcasts over (B, C, H, W)
        String w = g.weight(ref.paramKey("weight"), weight.toFloatArray(), channels, 1, 1);
        String b = g.weight(ref.paramKey("bias"), ref.parameter("bias").get().toFloatArray(), channels, 1, 1);
        return g.op("Add", ref.key(), g.op("Mul", ref.key(), back, w), b);
    }

    /** {@link LayerNorm} over the last axis. */
    String layerNorm(ModuleRef ref, String x) {
        LayerNorm norm = ref.as(LayerNorm.class);
        return g.op("LayerNormalization", ref.key(),
                List.of(x, g.weight(ref.paramKey("weight"), ref.parameter("weight").get()),
                        g.weight(ref.paramKey("bias"), ref.parameter("bias").get())),
                attr("axis", -1L), attr("epsilon", norm.eps()));
    }

    /** x * sigmoid(x). */
    String silu(String x) {
        return g.op("Mul", x, x, g.op("Sigmoid", x, x));
    }

    /** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)) (opset 17 has no Gelu op). */
    String gelu(String x) {
        String erf = g.op("Erf", x, g.op("Div", x, x, g.scalar((float) Math.sqrt(2.0))));
        return g.op("Mul", x, g.op("Mul", x, x, g.scalar(0.5f)), g.op("Add", x, erf, g.scalar(1f)));
    }

    /** CLIP's x * sigmoid(1.702 x). */
    String quickGelu(String x) {
        return g.op("Mul", x, x, g.op("Sigmoid", x, g.op("Mul", x, x, g.scalar(1.702f))));
    }

    /**
     * Ops.attention on projected tensors: q (B, Nq, H*D), k and v (B, Nk, H*D) -> (B, Nq, H*D). Queries are scaled
     * by 1/sqrt(D) (and, for ReLU attention, by 1/Nk: ReLU(s) / Nk = ReLU(s / Nk)) before the product, as mdx does.
     *
     * @param mask additive, broadcastable to (B, H, Nq, Nk), or null
     */
    String attention(String hint, String q, String k, String v, int heads, long inner, Ops.AttentionKind kind,
            String mask) {
        long d = inner / heads;
        String qs = g.op("Mul", hint, q, g.scalar((float) (1.0 / Math.sqrt(d))));
        if (kind == Ops.AttentionKind.RELU && mask == null) {
            // Nk is dynamic (H*W for self-attention): taken from the keys' shape
            String nk = g.op("Cast", hint, List.of(g.op("Gather", hint, List.of(g.op("Shape", hint, k), g.ints(1)))),
                    attr("to", (long) OnnxGraph.FLOAT));
            qs = g.op("Div", hint, qs, nk);
        } else if (kind == Ops.AttentionKind.RELU) {
            throw new UnsupportedExportException("masked ReLU attention");
        }
        // (B, N, H*D) -> (B, H, N, D); keys to (B, H, D, Nk)
        String qh = g.op("Transpose", hint, List.of(g.op("Reshape", hint, qs, g.ints(0, 0, heads, d))),
                attr("perm", 0, 2, 1, 3));
        String kt = g.op("Transpose", hint, List.of(g.op("Reshape", hint, k, g.ints(0, 0, heads, d))),
                attr("perm", 0, 2, 3, 1));
        String vh = g.op("Transpose", hint, List.of(g.op("Reshape", hint, v, g.ints(0, 0, heads, d))),
                attr("perm", 0, 2, 1, 3));
        String scores = g.op("MatMul", hint, qh, kt);
        if (mask != null) {
            scores = g.op("Add", hint, scores, mask);
        }
        String weights = kind == Ops.AttentionKind.SOFTMAX
                ? g.op("Softmax", hint, List.of(scores), attr("axis", -1L))
                : g.op("Relu", hint, scores);
        String out = g.op("MatMul", hint, weights, vh);
        // (B, H, Nq, D) -> (B, Nq, H*D)
        String back = g.op("Transpose", hint, List.of(out), attr("perm", 0, 2, 1, 3));
        return g.op("Reshape", hint, back, g.ints(0, 0, inner));
    }

    /**
     * diffusers' FeedForward ({@code net.0.proj}, {@code net.2}): GELU, or a gated GEGLU / SwiGLU whose projection's
     * first half is the value and second half the gate.
     */
    String feedForward(ModuleRef ref, FeedForwardActivation activation, String x) {
        ModuleRef net = ref.child("net");
        ModuleRef proj = net.child(0).child("proj");
        String h = linear(proj, x);
        String act;
        if (!activation.gated()) {
            act = gelu(h);
        } else {
            long inner = proj.as(Linear.class).out() / 2;
            String[] halves = g.ops("Split", proj.key(), 2, List.of(h, g.ints(inner, inner)), attr("axis", -1L));
            String gate = activation == FeedForwardActivation.GEGLU ? gelu(halves[1]) : silu(halves[1]);
            act = g.op("Mul", proj.key(), halves[0], gate);
        }
        return linear(net.child(2), act);
    }

    /** A slice of a 1-D int64 shape tensor: dims [start, end) of {@code x}. */
    String dims(String x, long start, long end) {
        return g.op("Shape", x, List.of(x), attr("start", start), attr("end", end));
    }
}
