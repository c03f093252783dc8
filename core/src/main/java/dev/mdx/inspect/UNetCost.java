package dev.mdx.inspect;

import dev.mdx.unet.UNetConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Parameters and forward FLOPs of a {@link dev.mdx.unet.UNet2DConditionModel}, computed from its config by walking
 * the block structure with shapes (nothing is allocated or run). Mirrors the module tree block by block; a test
 * checks it against the module tree's parameters and the FLOPs counted while a real forward pass runs.
 */
public final class UNetCost {
    public static final String CONV_IN = "conv_in";
    public static final String TIME_EMBEDDING = "time embedding";
    public static final String RESNETS = "resnets";
    public static final String SELF_ATTENTION = "self-attention";
    public static final String CROSS_ATTENTION = "cross-attention";
    public static final String FEED_FORWARD = "feed-forward";
    public static final String TRANSFORMER_IO = "transformer norm + proj_in/out";
    public static final String DOWNSAMPLERS = "downsamplers";
    public static final String UPSAMPLERS = "upsamplers";
    public static final String CONV_OUT = "conv_norm_out + conv_out";

    private final UNetConfig c;
    private final long batch;
    private final int contextLength;
    private final CostSheet sheet = new CostSheet();

    private UNetCost(UNetConfig c, long batch, int contextLength) {
        this.c = c;
        this.batch = batch;
        this.contextLength = contextLength;
    }

    /**
     * @param batch samples per forward (2 for classifier-free guidance)
     * @param height latent height
     * @param width latent width
     * @param contextLength tokens of the encoder hidden states (77 for CLIP)
     */
    public static ComponentCost of(UNetConfig config, int batch, int height, int width, int contextLength) {
        if (batch < 1 || height < 1 || width < 1 || contextLength < 1) {
            throw new IllegalArgumentException("batch, latent size and context length must be positive");
        }
        UNetCost walk = new UNetCost(config, batch, contextLength);
        walk.walk(height, width);
        String input = String.format("sample (%d, %d, %d, %d), context (%d, %d, %d)", batch, config.inChannels(),
                height, width, batch, contextLength, config.crossAttentionDim().get(0));
        return walk.sheet.build("unet", input);
    }

    /** A feature map's channels and spatial size. */
    private record Map2d(int channels, long h, long w) {}

    private void walk(long height, long width) {
        List<Integer> channels = c.blockOutChannels();
        int first = channels.get(0);
        sheet.linear(TIME_EMBEDDING, first, c.timeEmbedDim(), true, batch);
        if (c.hasTimeCondProj()) {
            // cond_proj: the guidance embedding projected onto the time projection's width, no bias
            sheet.linear(TIME_EMBEDDING, c.timeCondProjDim(), first, false, batch);
        }
        sheet.linear(TIME_EMBEDDING, c.timeEmbedDim(), c.timeEmbedDim(), true, batch);
        sheet.conv(CONV_IN, c.inChannels(), first, c.convInKernel(), 1, true, batch, height, width);

        List<Map2d> skips = new ArrayList<>();
        long h = height;
        long w = width;
        skips.add(new Map2d(first, h, w));
        int in = first;
        for (int level = 0; level < c.levels(); level++) {
            int out = channels.get(level);
            boolean separable = c.separableConvLevels().get(level);
            for (int j = 0; j < c.layersPerBlock().get(level); j++) {
                resnet(j == 0 ? in : out, out, separable, h, w);
                if (c.downBlockTypes().get(level).hasAttention()) {
                    transformer(level, out, c.transformerLayersPerBlock().get(level), c.selfAttentionLevels().get(level),
                            h, w);
                }
                skips.add(new Map2d(out, h, w));
            }
            if (level < c.levels() - 1) {
                // 3x3 stride 2; padding 0 pads one column and row on the right and bottom (diffusers)
                int padTotal = c.downsamplePadding() == 0 ? 1 : 2 * c.downsamplePadding();
                h = (h + padTotal - 3) / 2 + 1;
                w = (w + padTotal - 3) / 2 + 1;
                sheet.conv(DOWNSAMPLERS, out, out, 3, 1, true, batch, h, w);
                skips.add(new Map2d(out, h, w));
            }
            in = out;
        }

        int last = c.levels() - 1;
        int bottom = channels.get(last);
        boolean separableMid = c.separableConvLevels().get(last);
        resnet(bottom, bottom, separableMid, h, w);
        transformer(last, bottom, c.midBlockTransformerLayers(), c.midBlockSelfAttention(), h, w);
        for (int j = 1; j < c.midBlockResnets(); j++) {
            resnet(bottom, bottom, separableMid, h, w);
        }

        int prev = bottom;
        for (int j = 0; j < c.levels(); j++) {
            int level = c.levelOfUpBlock(j);
            int out = channels.get(level);
            boolean separable = c.separableConvLevels().get(level);
            int layers = c.layersPerBlock().get(level) + 1;
            for (int r = 0; r < layers; r++) {
                Map2d skip = skips.remove(skips.size() - 1);
                resnet((r == 0 ? prev : out) + skip.channels(), out, separable, h, w);
                if (c.upBlockTypes().get(j).hasAttention()) {
                    transformer(level, out, c.transformerLayersPerBlock().get(level), c.selfAttentionLevels().get(level),
                            h, w);
                }
            }
            if (j < c.levels() - 1) {
                Map2d next = skips.get(skips.size() - 1);
                h = next.h();
                w = next.w();
                sheet.conv(UPSAMPLERS, out, out, 3, 1, true, batch, h, w);
            }
            prev = out;
        }
        sheet.norm(CONV_OUT, first);
        sheet.conv(CONV_OUT, first, c.outChannels(), c.convOutKernel(), 1, true, batch, h, w);
    }

    /** ResnetBlock2D at (h, w): norm1, conv1, time_emb_proj, norm2, conv2, and a 1x1 shortcut if in != out. */
    private void resnet(int in, int out, boolean separable, long h, long w) {
        sheet.norm(RESNETS, in);
        conv3x3(in, out, separable, h, w);
        sheet.linear(RESNETS, c.timeEmbedDim(), out, true, batch);
        sheet.norm(RESNETS, out);
        conv3x3(out, out, separable, h, w);
        if (in != out) {
            sheet.conv(RESNETS, in, out, 1, 1, true, batch, h, w);
        }
    }

    private void conv3x3(int in, int out, boolean separable, long h, long w) {
        if (separable) {
            sheet.conv(RESNETS, in, in, 3, in, false, batch, h, w);
            sheet.conv(RESNETS, in, out, 1, 1, true, batch, h, w);
        } else {
            sheet.conv(RESNETS, in, out, 3, 1, true, batch, h, w);
        }
    }

    /** Transformer2DModel over h * w tokens of width dim with {@code layers} BasicTransformerBlocks. */
    private void transformer(int level, int dim, int layers, boolean selfAttention, long h, long w) {
        long tokens = batch * h * w;
        sheet.norm(TRANSFORMER_IO, dim);
        projection(dim, h, w);
        int contextDim = c.crossAttentionDim().get(level);
        boolean onContext = c.onlyCrossAttention().get(level);
        for (int i = 0; i < layers; i++) {
            if (selfAttention) {
                sheet.norm(SELF_ATTENTION, dim);
                attention(SELF_ATTENTION, dim, onContext ? contextDim : dim, h * w, onContext ? contextLength : h * w);
            }
            sheet.norm(CROSS_ATTENTION, dim);
            attention(CROSS_ATTENTION, dim, contextDim, h * w, contextLength);
            sheet.norm(FEED_FORWARD, dim);
            int inner = c.ffInnerDim(dim);
            sheet.linear(FEED_FORWARD, dim, c.ffActivation().gated() ? 2 * inner : inner, true, tokens);
            sheet.linear(FEED_FORWARD, inner, dim, true, tokens);
        }
        projection(dim, h, w);
    }

    /** proj_in / proj_out: a 1x1 conv or a Linear on the tokens, the same work. */
    private void projection(int dim, long h, long w) {
        if (c.useLinearProjection()) {
            sheet.linear(TRANSFORMER_IO, dim, dim, true, batch * h * w);
        } else {
            sheet.conv(TRANSFORMER_IO, dim, dim, 1, 1, true, batch, h, w);
        }
    }

    /** Attention with inner width dim: to_q, to_k + to_v (or to_kv), the two matmuls, to_out.0. */
    private void attention(String part, int dim, int sourceDim, long queries, long keys) {
        sheet.linear(part, dim, dim, false, batch * queries);
        int kvProjections = c.sharedKvProjection() ? 1 : 2;
        for (int i = 0; i < kvProjections; i++) {
            sheet.linear(part, sourceDim, dim, false, batch * keys);
        }
        sheet.attention(part, batch, queries, keys, dim);
        sheet.linear(part, dim, dim, true, batch * queries);
    }
}
