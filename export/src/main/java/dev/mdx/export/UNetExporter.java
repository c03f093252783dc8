package dev.mdx.export;

import static dev.mdx.export.OnnxGraph.attr;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mdx.nn.Attention;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.GuidanceEmbedding;
import dev.mdx.nn.Linear;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import java.util.ArrayList;
import java.util.List;
import onnx.Onnx.ModelProto;

/**
 * The ONNX graph of a {@link UNet2DConditionModel}, walked in the order of its Java forward (encode, then the up
 * blocks). Inputs: {@value #SAMPLE} (B, in_channels, h, w), {@value #TIMESTEP} (B,) float, {@value #CONTEXT}
 * (B, L, cross_attention_dim) and, for a UNet with {@code time_cond_proj_dim}, {@value #GUIDANCE} (B,) the
 * classifier-free guidance scale whose LCM embedding the graph computes; output {@value #OUTPUT}
 * (B, out_channels, h, w).
 */
final class UNetExporter {
    static final String SAMPLE = "sample";
    static final String TIMESTEP = "timestep";
    static final String CONTEXT = "encoder_hidden_states";
    static final String GUIDANCE = "guidance_scale";
    static final String OUTPUT = "out_sample";

    private static final double MAX_PERIOD = 10000;

    private final UNetConfig c;
    private final OnnxGraph g;
    private final Layers l;
    private final ModuleRef root;

    private UNetExporter(UNet2DConditionModel unet, OnnxPrecision precision) {
        this.c = unet.config();
        this.g = new OnnxGraph("unet", precision);
        this.l = new Layers(g);
        this.root = ModuleRef.root(unet);
    }

    static ModelProto export(UNet2DConditionModel unet, OnnxPrecision precision, String version) {
        return new UNetExporter(unet, precision).build(version);
    }

    private ModelProto build(String version) {
        String sample = g.input(SAMPLE, OnnxGraph.FLOAT, "batch", (long) c.inChannels(), "height", "width");
        String timestep = g.input(TIMESTEP, OnnxGraph.FLOAT, "batch");
        String context = g.input(CONTEXT, OnnxGraph.FLOAT, "batch", "sequence",
                (long) c.crossAttentionDim().get(0));
        for (int dim : c.crossAttentionDim()) {
            if (dim != c.crossAttentionDim().get(0)) {
                throw new UnsupportedExportException("a cross_attention_dim that differs between blocks");
            }
        }
        String guidance = c.hasTimeCondProj() ? g.input(GUIDANCE, OnnxGraph.FLOAT, "batch") : null;

        String temb = timeEmbedding(timestep, guidance);
        String tembAct = l.silu(temb);
        String x = c.centerInputSample()
                ? g.op("Sub", "center", g.op("Mul", "center", sample, g.scalar(2f)), g.scalar(1f)) : sample;
        String h = l.conv(root.child("conv_in"), x);
        List<String> skips = new ArrayList<>();
        skips.add(h);
        ModuleRef downs = root.child("down_blocks");
        for (int i = 0; i < c.levels(); i++) {
            h = downBlock(downs.child(i), i, h, tembAct, context, skips);
        }
        h = midBlock(root.child("mid_block"), h, tembAct, context);
        ModuleRef ups = root.child("up_blocks");
        for (int j = 0; j < c.levels(); j++) {
            h = upBlock(ups.child(j), c.levelOfUpBlock(j), h, tembAct, context, skips);
        }
        h = l.silu(l.groupNorm(root.child("conv_norm_out"), h));
        h = l.conv(root.child("conv_out"), h);
        g.output(h, OUTPUT, OnnxGraph.FLOAT, "batch", (long) c.outChannels(), "height", "width");
        return g.model(version, "mdx UNet2DConditionModel");
    }

    /** Sinusoidal projection of the timesteps (nn.Timesteps), plus the guidance condition, through time_embedding. */
    private String timeEmbedding(String timestep, String guidance) {
        int dim = c.blockOutChannels().get(0);
        if (dim % 2 == 1) {
            throw new UnsupportedExportException("an odd timestep embedding width (" + dim + ")");
        }
        int half = dim / 2;
        float[] freqs;
        try (NDManager m = NDManager.newBaseManager()) {
            // the same float32 ops as nn.Timesteps, so the frequencies are bit-identical
            NDArray exponent = m.arange(0, half, 1, DataType.FLOAT32).mul((float) -Math.log(MAX_PERIOD))
                    .div((float) (half - c.freqShift()));
            freqs = exponent.exp().toFloatArray();
        }
        // (B,) -> (B, 1) x (1, half) -> (B, half)
        String t = g.op("Reshape", "time_proj", timestep, g.ints(-1, 1));
        String args = g.op("Mul", "time_proj", t, g.constant("time_proj.freqs", freqs, 1, half));
        String sin = g.op("Sin", "time_proj", args);
        String cos = g.op("Cos", "time_proj", args);
        String proj = g.op("Concat", "time_proj", c.flipSinToCos() ? List.of(cos, sin) : List.of(sin, cos),
                attr("axis", 1L));
        ModuleRef te = root.child("time_embedding");
        if (te.has("cond_proj")) {
            proj = g.op("Add", "time_embedding", proj, l.linear(te.child("cond_proj"), guidanceEmbedding(guidance)));
        }
        return l.linear(te.child("linear_2"), l.silu(l.linear(te.child("linear_1"), proj)));
    }

    /** nn.GuidanceEmbedding of the scales s: w = s - 1, cat[sin(1000 w f), cos(1000 w f)], (B,) -> (B, dim). */
    private String guidanceEmbedding(String scale) {
        int dim = c.timeCondProjDim();
        if (dim % 2 == 1) {
            throw new UnsupportedExportException("an odd time_cond_proj_dim (" + dim + ")");
        }
        int half = dim / 2;
        float[] freqs;
        try (NDManager m = NDManager.newBaseManager()) {
            float step = (float) Math.log(10000.0) / (half - 1);
            freqs = m.arange(0, half, 1, DataType.FLOAT32).mul(-step).exp().toFloatArray();
        }
        new GuidanceEmbedding(dim); // checks the width as mdx does
        String w = g.op("Sub", "guidance", scale, g.scalar(1f));
        String wk = g.op("Mul", "guidance", g.op("Reshape", "guidance", w, g.ints(-1, 1)), g.scalar(1000f));
        String args = g.op("Mul", "guidance", wk, g.constant("guidance.freqs", freqs, 1, half));
        return g.op("Concat", "guidance", List.of(g.op("Sin", "guidance", args), g.op("Cos", "guidance", args)),
                attr("axis", 1L));
    }

    private String downBlock(ModuleRef block, int level, String x, String tembAct, String context,
            List<String> skips) {
        String h = x;
        int resnets = block.count("resnets");
        for (int j = 0; j < resnets; j++) {
            h = resnet(block.child("resnets").child(j), h, tembAct, c.resnetOutScaleFactor());
            if (block.has("attentions")) {
                h = transformer(block.child("attentions").child(j), level, h, context);
            }
            skips.add(h);
        }
        if (block.has("downsamplers")) {
            ModuleRef conv = block.child("downsamplers").child(0).child("conv");
            int p = conv.as(Conv2d.class).padding();
            // diffusers' Downsample2D with padding 0 pads one zero row and column at the bottom and right
            h = l.conv(conv, h, p == 0 ? new long[] {0, 0, 1, 1} : new long[] {p, p, p, p});
            skips.add(h);
        }
        return h;
    }

    private String midBlock(ModuleRef block, String x, String tembAct, String context) {
        int level = c.levels() - 1;
        ModuleRef resnets = block.child("resnets");
        String h = resnet(resnets.child(0), x, tembAct, c.midBlockScaleFactor());
        int attentions = block.count("attentions");
        for (int j = 0; j < attentions; j++) {
            h = transformer(block.child("attentions").child(j), level, h, context);
            if (j + 1 < block.count("resnets")) {
                h = resnet(resnets.child(j + 1), h, tembAct, c.midBlockScaleFactor());
            }
        }
        return h;
    }

    private String upBlock(ModuleRef block, int level, String x, String tembAct, String context,
            List<String> skips) {
        String h = x;
        int resnets = block.count("resnets");
        for (int j = 0; j < resnets; j++) {
            String skip = skips.remove(skips.size() - 1);
            // (B, C1, H, W) ++ (B, C2, H, W) -> (B, C1 + C2, H, W)
            String cat = g.op("Concat", block.key(), List.of(h, skip), attr("axis", 1L));
            h = resnet(block.child("resnets").child(j), cat, tembAct, c.resnetOutScaleFactor());
            if (block.has("attentions")) {
                h = transformer(block.child("attentions").child(j), level, h, context);
            }
        }
        if (block.has("upsamplers")) {
            ModuleRef up = block.child("upsamplers").child(0);
            // nearest resize to the next skip's size: 2x, or torch's floor(dst * in / out) for an odd skip
            String sizes = g.op("Concat", up.key(),
                    List.of(l.dims(h, 0, 2), l.dims(skips.get(skips.size() - 1), 2, 4)), attr("axis", 0L));
            String resized = g.op("Resize", up.key(), List.of(h, "", "", sizes),
                    attr("mode", "nearest"), attr("coordinate_transformation_mode", "asymmetric"),
                    attr("nearest_mode", "floor"));
            h = l.conv(up.child("conv"), resized);
        }
        return h;
    }

    /**
     * ResnetBlock2D: conv1(SiLU(norm1 x)) + time_emb_proj(tembAct), conv2(SiLU(norm2 .)), plus the (projected)
     * input, divided by the output scale; a null tembAct is the VAE's resnet, without the time term.
     */
    static String resnet(Layers l, ModuleRef ref, String x, String tembAct, double outputScale) {
        OnnxGraph g = l.graph();
        String h = l.conv(ref.child("conv1"), l.silu(l.groupNorm(ref.child("norm1"), x)));
        if (tembAct != null) {
            // (B, out) -> (B, out, 1, 1)
            String t = l.linear(ref.child("time_emb_proj"), tembAct);
            h = g.op("Add", ref.key(), h, g.op("Unsqueeze", ref.key(), t, g.ints(2, 3)));
        }
        h = l.conv(ref.child("conv2"), l.silu(l.groupNorm(ref.child("norm2"), h)));
        String shortcut = ref.has("conv_shortcut") ? l.conv(ref.child("conv_shortcut"), x) : x;
        String sum = g.op("Add", ref.key(), shortcut, h);
        return outputScale == 1.0 ? sum : g.op("Div", ref.key(), sum, g.scalar((float) outputScale));
    }

    private String resnet(ModuleRef ref, String x, String tembAct, double outputScale) {
        return resnet(l, ref, x, tembAct, outputScale);
    }

    /** Transformer2DModel: GroupNorm, proj_in (1x1 conv or Linear), the blocks on (B, H*W, C), proj_out, + x. */
    private String transformer(ModuleRef ref, int level, String x, String context) {
        long channels = ref.child("norm").parameter("weight").shape().get(0);
        String hidden = l.groupNorm(ref.child("norm"), x);
        ModuleRef projIn = ref.child("proj_in");
        boolean linear = projIn.module() instanceof Linear;
        if (!linear) {
            hidden = l.conv(projIn, hidden);
        }
        // (B, C, H, W) -> (B, H*W, C)
        hidden = g.op("Reshape", ref.key(),
                g.op("Transpose", ref.key(), List.of(hidden), attr("perm", 0, 2, 3, 1)), g.ints(0, -1, channels));
        if (linear) {
            hidden = l.linear(projIn, hidden);
        }
        ModuleRef blocks = ref.child("transformer_blocks");
        for (int i = 0; i < ref.count("transformer_blocks"); i++) {
            hidden = transformerBlock(blocks.child(i), level, hidden, context);
        }
        ModuleRef projOut = ref.child("proj_out");
        if (linear) {
            hidden = l.linear(projOut, hidden);
        }
        // (B, H*W, C) -> (B, H, W, C) -> (B, C, H, W)
        String bhwc = g.op("Concat", ref.key(), List.of(l.dims(x, 0, 1), l.dims(x, 2, 4), g.ints(channels)),
                attr("axis", 0L));
        hidden = g.op("Transpose", ref.key(), List.of(g.op("Reshape", ref.key(), hidden, bhwc)),
                attr("perm", 0, 3, 1, 2));
        if (!linear) {
            hidden = l.conv(projOut, hidden);
        }
        return g.op("Add", ref.key(), hidden, x);
    }

    /** BasicTransformerBlock: x += attn1(norm1 x); x += attn2(norm2 x, context); x += ff(norm3 x). */
    private String transformerBlock(ModuleRef ref, int level, String x, String context) {
        if (ref.has("attn1")) {
            String self = c.onlyCrossAttention().get(level) ? context : null;
            x = g.op("Add", ref.key(), x, attention(ref.child("attn1"), l.layerNorm(ref.child("norm1"), x), self));
        }
        x = g.op("Add", ref.key(), x, attention(ref.child("attn2"), l.layerNorm(ref.child("norm2"), x), context));
        return g.op("Add", ref.key(), x, l.feedForward(ref.child("ff"), c.ffActivation(),
                l.layerNorm(ref.child("norm3"), x)));
    }

    /** nn.Attention: to_q, to_k and to_v (or one shared to_kv), attention, to_out.0. */
    private String attention(ModuleRef ref, String x, String context) {
        Attention.Spec spec = ref.as(Attention.class).spec();
        String source = context == null ? x : context;
        String q = l.linear(ref.child("to_q"), x);
        String k;
        String v;
        if (ref.has("to_kv")) {
            k = l.linear(ref.child("to_kv"), source);
            v = k;
        } else {
            k = l.linear(ref.child("to_k"), source);
            v = l.linear(ref.child("to_v"), source);
        }
        String attended = l.attention(ref.key(), q, k, v, spec.heads(), spec.innerDim(), spec.kind(), null);
        return l.linear(ref.child("to_out").child(0), attended);
    }
}
