package dev.mdx.memory;

import dev.mdx.nn.FeedForwardActivation;
import dev.mdx.unet.UNetConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Walks one {@code UNet2DConditionModel.forward} (and the pipeline step around it) with shapes, holding what each op
 * allocates where the code holds it: block outputs, skip connections, concatenations and upsampler intermediates
 * stay in the step's scope until the step ends; a ResnetBlock2D, a Transformer2DModel, each BasicTransformerBlock
 * and each attention chunk run in their own scopes (Scopes.run), which free everything but the result. Mirrors
 * {@link dev.mdx.inspect.UNetCost}'s walk; nothing is allocated.
 */
final class UNetActivations {
    /** ResnetBlock2D and the UNet's conv_norm_out: GroupNorm's input channels are padded to this for batch > 1. */
    private static final int CONV_SAFE_CHANNELS = 16;

    private final UNetConfig c;
    private final double batch;
    private final double contextLength;
    private final Layers ops;
    private final Tally t;

    private UNetActivations(UNetConfig c, int batch, int contextLength, Tally t) {
        this.c = c;
        this.batch = batch;
        this.contextLength = contextLength;
        this.t = t;
        this.ops = new Layers(t);
    }

    /** Walks one step at a latent of (height, width) into {@code t}. */
    static void walk(Tally t, UNetConfig c, int batch, long height, long width, int contextLength) {
        new UNetActivations(c, batch, contextLength, t).walk(height, width);
    }

    private double map(int channels, double h, double w) {
        return batch * channels * h * w;
    }

    private void walk(long height, long width) {
        List<Integer> channels = c.blockOutChannels();
        int first = channels.get(0);
        double h = height;
        double w = width;
        // the step: scaled input and its guided batch, the prediction, guidance and sampler arithmetic
        t.hold(Layers.bytes(6 * map(c.inChannels(), h, w)));
        t.hold(Layers.bytes(batch * contextLength * c.crossAttentionDim().get(0)));
        if (c.centerInputSample()) {
            ops.elementwise(2 * map(c.inChannels(), h, w));
        }
        ops.conv(map(c.inChannels(), h, w), map(first, h, w));
        t.checkpoint("conv_in");

        List<double[]> skips = new ArrayList<>();
        skips.add(new double[] {first, h, w});
        int in = first;
        for (int level = 0; level < c.levels(); level++) {
            int out = channels.get(level);
            for (int j = 0; j < c.layersPerBlock().get(level); j++) {
                resnet(j == 0 ? in : out, out, level, c.resnetOutScaleFactor(), h, w);
                if (c.downBlockTypes().get(level).hasAttention()) {
                    transformer(level, out, c.transformerLayersPerBlock().get(level),
                            c.selfAttentionLevels().get(level), h, w);
                }
                skips.add(new double[] {out, h, w});
            }
            if (level < c.levels() - 1) {
                if (c.downsamplePadding() == 0) {
                    ops.elementwise(map(out, h + 1, w + 1)); // padded right and bottom
                }
                int padTotal = c.downsamplePadding() == 0 ? 1 : 2 * c.downsamplePadding();
                double h2 = Math.floor((h + padTotal - 3) / 2) + 1;
                double w2 = Math.floor((w + padTotal - 3) / 2) + 1;
                ops.conv(map(out, h, w), map(out, h2, w2));
                h = h2;
                w = w2;
                skips.add(new double[] {out, h, w});
            }
            t.checkpoint("down_blocks." + level);
            in = out;
        }

        int last = c.levels() - 1;
        int bottom = channels.get(last);
        resnet(bottom, bottom, last, c.midBlockScaleFactor(), h, w);
        transformer(last, bottom, c.midBlockTransformerLayers(), c.midBlockSelfAttention(), h, w);
        for (int j = 1; j < c.midBlockResnets(); j++) {
            resnet(bottom, bottom, last, c.midBlockScaleFactor(), h, w);
        }
        t.checkpoint("mid_block");

        int prev = bottom;
        for (int j = 0; j < c.levels(); j++) {
            int level = c.levelOfUpBlock(j);
            int out = channels.get(level);
            int layers = c.layersPerBlock().get(level) + 1;
            for (int r = 0; r < layers; r++) {
                double[] skip = skips.remove(skips.size() - 1);
                int resnetIn = (r == 0 ? prev : out) + (int) skip[0];
                ops.elementwise(map(resnetIn, h, w)); // cat([h, skip])
                resnet(resnetIn, out, level, c.resnetOutScaleFactor(), h, w);
                if (c.upBlockTypes().get(j).hasAttention()) {
                    transformer(level, out, c.transformerLayersPerBlock().get(level),
                            c.selfAttentionLevels().get(level), h, w);
                }
            }
            if (j < c.levels() - 1) {
                double[] next = skips.get(skips.size() - 1);
                if (next[1] == 2 * h && next[2] == 2 * w) {
                    ops.elementwise(map(out, 2 * h, w)); // repeat along H, then W
                }
                ops.elementwise(map(out, next[1], next[2]));
                ops.conv(map(out, next[1], next[2]), map(out, next[1], next[2]));
                h = next[1];
                w = next[2];
            }
            t.checkpoint("up_blocks." + j);
            prev = out;
        }
        ops.groupNorm(map(first, h, w));
        ops.silu(map(first, h, w));
        ops.conv(map(first, h, w), map(c.outChannels(), h, w));
        t.checkpoint("conv_out");
    }

    /** ResnetBlock2D in its own scope; its output stays. */
    private void resnet(int in, int out, int level, double outputScale, double h, double w) {
        boolean separable = c.separableConvLevels().get(level);
        Tally.Mark scope = t.open();
        ops.groupNorm(map(in, h, w));
        ops.silu(map(in, h, w));
        conv3x3(in, out, separable, h, w);
        ops.elementwise(map(out, h, w)); // + time embedding
        ops.groupNorm(map(out, h, w));
        ops.silu(map(out, h, w));
        conv3x3(out, out, separable, h, w);
        if (in != out) {
            ops.conv(map(in, h, w), map(out, h, w));
        }
        ops.elementwise(map(out, h, w)); // shortcut + h
        if (outputScale != 1.0) {
            ops.elementwise(map(out, h, w));
        }
        t.close(scope, Layers.bytes(map(out, h, w)));
    }

    private void conv3x3(int in, int out, boolean separable, double h, double w) {
        if (separable) {
            ops.conv(map(in, h, w), map(in, h, w));
            ops.conv(map(in, h, w), map(out, h, w));
            return;
        }
        if (batch > 1 && in > CONV_SAFE_CHANNELS && in % CONV_SAFE_CHANNELS != 0) {
            // Ops.conv2d pads the input channels to a multiple of 16 (zeros and the concatenation)
            int padded = (in / CONV_SAFE_CHANNELS + 1) * CONV_SAFE_CHANNELS;
            ops.elementwise(map(padded - in, h, w) + map(padded, h, w));
            in = padded;
        }
        ops.conv(map(in, h, w), map(out, h, w));
    }

    /** Transformer2DModel over h * w tokens of width dim, in its own scope; each block in a nested one. */
    private void transformer(int level, int dim, int layers, boolean selfAttention, double h, double w) {
        double tokens = h * w;
        double n = map(dim, h, w);
        Tally.Mark scope = t.open();
        ops.groupNorm(n);
        if (c.useLinearProjection()) {
            ops.elementwise(n); // (B, C, H, W) -> (B, H*W, C)
            ops.linear(n, n, true);
        } else {
            ops.conv(n, n);
            ops.elementwise(n);
        }
        int contextDim = c.crossAttentionDim().get(level);
        boolean onContext = c.onlyCrossAttention().get(level);
        int heads = c.heads(level);
        for (int i = 0; i < layers; i++) {
            Tally.Mark block = t.open();
            if (selfAttention) {
                ops.layerNorm(n);
                attention(dim, heads, tokens, onContext ? contextLength : tokens, onContext ? contextDim : dim);
                ops.elementwise(n);
            }
            ops.layerNorm(n);
            attention(dim, heads, tokens, contextLength, contextDim);
            ops.elementwise(n);
            ops.layerNorm(n);
            feedForward(dim, tokens);
            ops.elementwise(n);
            t.close(block, Layers.bytes(n));
        }
        if (c.useLinearProjection()) {
            ops.linear(n, n, true);
        } else {
            ops.conv(n, n); // on a transposed view, which oneDNN copies first (counted in its workspace)
        }
        ops.elementwise(n); // + residual
        t.close(scope, Layers.bytes(n));
    }

    /** to_q, to_k and to_v (or to_kv), Ops.attention and to_out.0. */
    private void attention(int dim, int heads, double queries, double keys, int sourceDim) {
        double q = batch * queries * dim;
        double kv = batch * keys * dim;
        t.beginAttention();
        ops.linear(batch * queries * dim, q, true);
        ops.linear(batch * keys * sourceDim, kv, true);
        if (!c.sharedKvProjection()) {
            ops.linear(batch * keys * sourceDim, kv, true);
        }
        ops.attention(batch, queries, keys, dim, heads);
        ops.linear(q, q, true);
        t.endAttention();
    }

    /** FeedForward: proj (twice the inner width when gated), the activation, the product, net.2. */
    private void feedForward(int dim, double tokens) {
        double inner = batch * tokens * c.ffInnerDim(dim);
        double n = batch * tokens * dim;
        FeedForwardActivation act = c.ffActivation();
        ops.linear(n, act.gated() ? 2 * inner : inner, true);
        if (act == FeedForwardActivation.SWIGLU) {
            ops.silu(inner);
        } else {
            ops.elementwise(inner); // GELU
        }
        if (act.gated()) {
            ops.elementwise(inner);
        }
        ops.linear(inner, n, true);
    }
}
