package dev.mdx.unet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.nn.FeedForwardActivation;
import dev.mdx.nn.GuidanceEmbedding;
import dev.mdx.tensor.Ops;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The config of a UNet2DConditionModel as diffusers writes it to {@code unet/config.json}, with every option SD
 * 1.x/2.x use, plus the MobileDiffusion options (docs/KEYS.md). Per-block lists are stored expanded, one entry per
 * down block ("level" i = down_blocks.i = up_blocks.(n-1-i)); up blocks read them reversed, the mid block reads the
 * last entry. Missing keys take diffusers' defaults.
 *
 * @param attentionHeadDim diffusers' misnamed per-block NUMBER OF HEADS (head size = channels / heads), used
 *     unless {@code numAttentionHeads} is set
 * @param numAttentionHeads per-block number of heads overriding {@code attentionHeadDim}, or null
 * @param timeEmbeddingDim width of the time embedding, or null for 4 * block_out_channels[0]
 * @param timeCondProjDim width of the condition that {@code time_embedding.cond_proj} adds to the time projection
 *     (diffusers' LCM guidance embedding), or null for no {@code cond_proj}
 * @param attentionKind softmax or ReLU attention weights (MobileDiffusion T5)
 * @param sharedKvProjection one {@code to_kv} projection for keys and values (MobileDiffusion T3)
 * @param ffActivation the feed-forward activation (GEGLU in SD, SwiGLU in MobileDiffusion T4)
 * @param ffMult feed-forward inner width / dim (the gated projection is to 2 * inner)
 * @param separableConvLevels per level: resnet conv1/conv2 are depthwise-separable (MobileDiffusion C1); the mid
 *     block follows the last level
 * @param selfAttentionLevels per level: transformer blocks have self-attention (false: cross-attention and
 *     feed-forward only, MobileDiffusion T2)
 * @param midBlockSelfAttention whether the mid block's transformer blocks have self-attention
 * @param midBlockTransformerLayers transformer blocks in the mid block's Transformer2DModel
 * @param midBlockResnets resnets in the mid block: 2 (diffusers: resnet, transformer, resnet) or 1 (resnet,
 *     transformer; MobileDiffusion's 12-ResBlock layout, paper notes 2.3)
 */
public record UNetConfig(
        Integer sampleSize,
        int inChannels,
        int outChannels,
        boolean centerInputSample,
        boolean flipSinToCos,
        int freqShift,
        List<DownBlockType> downBlockTypes,
        MidBlockType midBlockType,
        List<UpBlockType> upBlockTypes,
        List<Boolean> onlyCrossAttention,
        List<Integer> blockOutChannels,
        List<Integer> layersPerBlock,
        int downsamplePadding,
        double midBlockScaleFactor,
        double dropout,
        String actFn,
        int normNumGroups,
        double normEps,
        List<Integer> crossAttentionDim,
        List<Integer> transformerLayersPerBlock,
        List<Integer> attentionHeadDim,
        List<Integer> numAttentionHeads,
        boolean useLinearProjection,
        boolean upcastAttention,
        double resnetOutScaleFactor,
        Integer timeEmbeddingDim,
        Integer timeCondProjDim,
        int convInKernel,
        int convOutKernel,
        Ops.AttentionKind attentionKind,
        boolean sharedKvProjection,
        FeedForwardActivation ffActivation,
        double ffMult,
        List<Boolean> separableConvLevels,
        List<Boolean> selfAttentionLevels,
        boolean midBlockSelfAttention,
        int midBlockTransformerLayers,
        int midBlockResnets) {

    public static final String CLASS_NAME = "UNet2DConditionModel";
    public static final String ACT_FN = "silu";
    /** The default feed-forward expansion of diffusers' FeedForward (mult). */
    public static final double DEFAULT_FF_MULT = 4;
    /** Resnets of diffusers' UNetMidBlock2DCrossAttn (num_layers 1). */
    public static final int DEFAULT_MID_BLOCK_RESNETS = 2;

    public UNetConfig {
        int n = downBlockTypes.size();
        downBlockTypes = List.copyOf(downBlockTypes);
        upBlockTypes = List.copyOf(upBlockTypes);
        onlyCrossAttention = List.copyOf(onlyCrossAttention);
        blockOutChannels = List.copyOf(blockOutChannels);
        layersPerBlock = List.copyOf(layersPerBlock);
        crossAttentionDim = List.copyOf(crossAttentionDim);
        transformerLayersPerBlock = List.copyOf(transformerLayersPerBlock);
        attentionHeadDim = List.copyOf(attentionHeadDim);
        numAttentionHeads = numAttentionHeads == null ? null : List.copyOf(numAttentionHeads);
        separableConvLevels = List.copyOf(separableConvLevels);
        selfAttentionLevels = List.copyOf(selfAttentionLevels);

        if (n == 0) {
            throw invalid("down_block_types", "must list at least one block");
        }
        if (upBlockTypes.size() != n) {
            throw invalid("up_block_types", "must have as many entries as down_block_types (" + n + "), got "
                    + upBlockTypes.size());
        }
        requireCount("block_out_channels", blockOutChannels.size(), n);
        requireCount("only_cross_attention", onlyCrossAttention.size(), n);
        requireCount("layers_per_block", layersPerBlock.size(), n);
        requireCount("cross_attention_dim", crossAttentionDim.size(), n);
        requireCount("transformer_layers_per_block", transformerLayersPerBlock.size(), n);
        requireCount("attention_head_dim", attentionHeadDim.size(), n);
        if (numAttentionHeads != null) {
            requireCount("num_attention_heads", numAttentionHeads.size(), n);
        }
        requireCount("separable_conv_levels", separableConvLevels.size(), n);
        requireCount("self_attention_levels", selfAttentionLevels.size(), n);
        if (midBlockType == null) {
            throw invalid("mid_block_type", "is missing");
        }
        requirePositive("in_channels", inChannels);
        requirePositive("out_channels", outChannels);
        requirePositive("norm_num_groups", normNumGroups);
        requirePositive("mid_block_transformer_layers", midBlockTransformerLayers);
        if (midBlockResnets != 1 && midBlockResnets != 2) {
            throw invalid("mid_block_resnets", "must be 1 or 2, got " + midBlockResnets);
        }
        if (!(normEps > 0)) {
            throw invalid("norm_eps", "must be positive, got " + normEps);
        }
        if (!ACT_FN.equals(actFn)) {
            throw invalid("act_fn", "must be \"silu\", got \"" + actFn + "\"");
        }
        if (downsamplePadding != 0 && downsamplePadding != 1) {
            throw invalid("downsample_padding", "must be 0 or 1, got " + downsamplePadding);
        }
        requireOddKernel("conv_in_kernel", convInKernel);
        requireOddKernel("conv_out_kernel", convOutKernel);
        if (timeEmbeddingDim != null) {
            requirePositive("time_embedding_dim", timeEmbeddingDim);
        }
        if (timeCondProjDim != null && timeCondProjDim < GuidanceEmbedding.MIN_DIM) {
            // the pipeline feeds cond_proj the guidance embedding, whose sin/cos halves need this width
            throw invalid("time_cond_proj_dim", "must be at least " + GuidanceEmbedding.MIN_DIM
                    + " (the width of the guidance scale embedding), got " + timeCondProjDim);
        }
        if (sampleSize != null) {
            requirePositive("sample_size", sampleSize);
        }
        if (blockOutChannels.get(0) < 2) {
            throw invalid("block_out_channels", "entry 0 must be at least 2 (the timestep embedding has a sine and a"
                    + " cosine half), got " + blockOutChannels.get(0));
        }
        if (blockOutChannels.get(0) / 2 - freqShift == 0) {
            throw invalid("freq_shift", "must differ from block_out_channels[0] / 2");
        }
        if (!(ffMult > 0)) {
            throw invalid("ff_mult", "must be positive, got " + ffMult);
        }
        if (attentionKind == null) {
            throw invalid("attention_kind", "is missing");
        }
        if (ffActivation == null) {
            throw invalid("ff_activation", "is missing");
        }
        List<Integer> heads = numAttentionHeads != null ? numAttentionHeads : attentionHeadDim;
        String headsKey = numAttentionHeads != null ? "num_attention_heads" : "attention_head_dim";
        for (int i = 0; i < n; i++) {
            int c = blockOutChannels.get(i);
            requirePositive("block_out_channels", c);
            requirePositive("layers_per_block", layersPerBlock.get(i));
            requirePositive("transformer_layers_per_block", transformerLayersPerBlock.get(i));
            requirePositive("cross_attention_dim", crossAttentionDim.get(i));
            requirePositive(headsKey, heads.get(i));
            if (c % normNumGroups != 0) {
                throw invalid("norm_num_groups", normNumGroups + " does not divide block_out_channels[" + i + "] = " + c);
            }
            boolean attends = downBlockTypes.get(i).hasAttention() || upBlockTypes.get(n - 1 - i).hasAttention()
                    || i == n - 1;
            if (attends && c % heads.get(i) != 0) {
                throw invalid(headsKey, "entry " + i + " (" + heads.get(i) + " heads) does not divide block_out_channels["
                        + i + "] = " + c);
            }
            if (attends && (int) (c * ffMult) < 1) {
                throw invalid("ff_mult", ffMult + " leaves the feed-forward layers of block_out_channels[" + i + "] = "
                        + c + " no width");
            }
        }
    }

    /** Reads and validates a {@code config.json}. */
    public static UNetConfig read(Path file) {
        return fromJson(JsonConfig.read(file));
    }

    public static UNetConfig parse(String source, String json) {
        return fromJson(JsonConfig.parse(source, json));
    }

    /** Binds a config; unknown keys are ignored as diffusers does, unsupported values are rejected by name. */
    public static UNetConfig fromJson(JsonConfig c) {
        String className = c.getString("_class_name", CLASS_NAME);
        if (!CLASS_NAME.equals(className)) {
            throw c.error("_class_name", "must be " + CLASS_NAME + ", got " + className);
        }
        rejectUnsupported(c);
        List<DownBlockType> down = new ArrayList<>();
        for (String name : c.getStrings("down_block_types", List.of("CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                "CrossAttnDownBlock2D", "DownBlock2D"))) {
            DownBlockType t = DownBlockType.fromDiffusersName(name);
            if (t == null) {
                throw c.error("down_block_types", "has unsupported block '" + name + "' (supported: "
                        + "CrossAttnDownBlock2D, DownBlock2D)");
            }
            down.add(t);
        }
        List<UpBlockType> up = new ArrayList<>();
        for (String name : c.getStrings("up_block_types", List.of("UpBlock2D", "CrossAttnUpBlock2D",
                "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"))) {
            UpBlockType t = UpBlockType.fromDiffusersName(name);
            if (t == null) {
                throw c.error("up_block_types", "has unsupported block '" + name + "' (supported: "
                        + "UpBlock2D, CrossAttnUpBlock2D)");
            }
            up.add(t);
        }
        String midName = c.getString("mid_block_type", MidBlockType.UNET_MID_BLOCK_2D_CROSS_ATTN.diffusersName());
        MidBlockType mid = MidBlockType.fromDiffusersName(midName);
        if (mid == null) {
            throw c.error("mid_block_type", "has unsupported value '" + midName + "' (supported: UNetMidBlock2DCrossAttn)");
        }
        int n = down.size();
        Integer sampleSize = null;
        if (c.has("sample_size")) {
            sampleSize = c.getInt("sample_size", 0);
        }
        String kindName = c.getString("attention_kind", "softmax");
        Ops.AttentionKind kind;
        try {
            kind = Ops.AttentionKind.valueOf(kindName.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw c.error("attention_kind", "must be \"softmax\" or \"relu\", got \"" + kindName + "\"");
        }
        String ffName = c.getString("ff_activation", FeedForwardActivation.GEGLU.configName());
        FeedForwardActivation ff = FeedForwardActivation.fromConfigName(ffName);
        if (ff == null) {
            throw c.error("ff_activation", "must be one of " + FeedForwardActivation.allNames() + ", got \"" + ffName + "\"");
        }
        int[] transformerLayers = c.getIntPerEntry("transformer_layers_per_block", n, 1);
        List<Boolean> selfAttention = boolPerEntry(c, "self_attention_levels", n, true);
        try {
            return new UNetConfig(
                    sampleSize,
                    c.getInt("in_channels", 4),
                    c.getInt("out_channels", 4),
                    c.getBool("center_input_sample", false),
                    c.getBool("flip_sin_to_cos", true),
                    c.getInt("freq_shift", 0),
                    down,
                    mid,
                    up,
                    boolPerEntry(c, "only_cross_attention", n, false),
                    ints(c.getInts("block_out_channels", new int[] {320, 640, 1280, 1280})),
                    ints(c.getIntPerEntry("layers_per_block", n, 2)),
                    c.getInt("downsample_padding", 1),
                    c.getDouble("mid_block_scale_factor", 1.0),
                    c.getDouble("dropout", 0.0),
                    c.getString("act_fn", ACT_FN),
                    requireGroups(c),
                    c.getDouble("norm_eps", 1e-5),
                    ints(c.getIntPerEntry("cross_attention_dim", n, 1280)),
                    ints(transformerLayers),
                    ints(c.getIntPerEntry("attention_head_dim", n, 8)),
                    c.has("num_attention_heads") ? ints(c.getIntPerEntry("num_attention_heads", n, null)) : null,
                    c.getBool("use_linear_projection", false),
                    c.getBool("upcast_attention", false),
                    c.getDouble("resnet_out_scale_factor", 1.0),
                    c.has("time_embedding_dim") ? c.getInt("time_embedding_dim", 0) : null,
                    c.has("time_cond_proj_dim") ? c.getInt("time_cond_proj_dim", 0) : null,
                    c.getInt("conv_in_kernel", 3),
                    c.getInt("conv_out_kernel", 3),
                    kind,
                    c.getBool("shared_kv_projection", false),
                    ff,
                    c.getDouble("ff_mult", DEFAULT_FF_MULT),
                    boolPerEntry(c, "separable_conv_levels", n, false),
                    selfAttention,
                    c.getBool("mid_block_self_attention", selfAttention.get(n - 1)),
                    c.getInt("mid_block_transformer_layers", transformerLayers[n - 1]),
                    c.getInt("mid_block_resnets", DEFAULT_MID_BLOCK_RESNETS));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(c.source() + ": " + e.getMessage(), e);
        }
    }

    private static int requireGroups(JsonConfig c) {
        if (c.root().has("norm_num_groups") && c.root().get("norm_num_groups").isNull()) {
            throw c.error("norm_num_groups", "null (no output norm) is not supported");
        }
        return c.getInt("norm_num_groups", 32);
    }

    /** Options of UNet2DConditionModel that change the architecture in ways this port does not implement. */
    private static void rejectUnsupported(JsonConfig c) {
        for (String key : List.of("class_embed_type", "num_class_embeds", "addition_embed_type",
                "addition_time_embed_dim", "encoder_hid_dim", "encoder_hid_dim_type",
                "projection_class_embeddings_input_dim", "time_embedding_act_fn",
                "timestep_post_act", "reverse_transformer_layers_per_block", "cross_attention_norm")) {
            if (c.has(key)) {
                throw c.error(key, "is not supported (must be null), got " + c.root().get(key));
            }
        }
        for (String key : List.of("dual_cross_attention", "class_embeddings_concat", "resnet_skip_time_act")) {
            if (c.getBool(key, false)) {
                throw c.error(key, "is not supported (must be false)");
            }
        }
        requireString(c, "resnet_time_scale_shift", "default");
        requireString(c, "time_embedding_type", "positional");
        requireString(c, "attention_type", "default");
        if (c.has("sample_size") && !c.root().get("sample_size").isIntegralNumber()) {
            throw c.error("sample_size", "must be an integer, got " + c.root().get("sample_size"));
        }
    }

    private static void requireString(JsonConfig c, String key, String only) {
        String v = c.getString(key, only);
        if (!only.equals(v)) {
            throw c.error(key, "is not supported with value \"" + v + "\" (only \"" + only + "\")");
        }
    }

    /** A bool or a list of bools, one per block. */
    private static List<Boolean> boolPerEntry(JsonConfig c, String key, int count, boolean fallback) {
        JsonNode node = c.root().get(key);
        if (node == null || node.isNull()) {
            return Collections.nCopies(count, fallback);
        }
        if (node.isBoolean()) {
            return Collections.nCopies(count, node.asBoolean());
        }
        if (!node.isArray() || node.size() != count) {
            throw c.error(key, "must be true/false or a list of " + count + " booleans, got " + node);
        }
        List<Boolean> out = new ArrayList<>();
        for (JsonNode e : node) {
            if (!e.isBoolean()) {
                throw c.error(key, "must be true/false or a list of " + count + " booleans, got " + node);
            }
            out.add(e.asBoolean());
        }
        return out;
    }

    private static List<Integer> ints(int[] values) {
        List<Integer> out = new ArrayList<>(values.length);
        for (int v : values) {
            out.add(v);
        }
        return out;
    }

    private static IllegalArgumentException invalid(String key, String problem) {
        return new IllegalArgumentException("field '" + key + "' " + problem);
    }

    private static void requireCount(String key, int size, int n) {
        if (size != n) {
            throw invalid(key, "must have one entry per down block (" + n + "), got " + size);
        }
    }

    private static void requirePositive(String key, int value) {
        if (value <= 0) {
            throw invalid(key, "must be positive, got " + value);
        }
    }

    private static void requireOddKernel(String key, int k) {
        if (k <= 0 || k % 2 == 0) {
            throw invalid(key, "must be a positive odd kernel size, got " + k);
        }
    }

    // ---- derived values ----

    /** Number of resolution levels (down blocks). */
    public int levels() {
        return downBlockTypes.size();
    }

    /** Number of attention heads at level i (diffusers: num_attention_heads or else attention_head_dim). */
    public int heads(int level) {
        return (numAttentionHeads != null ? numAttentionHeads : attentionHeadDim).get(level);
    }

    /** Width of the time embedding (input of every resnet's time_emb_proj). */
    public int timeEmbedDim() {
        return timeEmbeddingDim != null ? timeEmbeddingDim : 4 * blockOutChannels.get(0);
    }

    /** Whether the UNet takes a condition vector (a guidance embedding) beside the timestep. */
    public boolean hasTimeCondProj() {
        return timeCondProjDim != null;
    }

    /** This config with {@code time_embedding.cond_proj} of the given input width, or without it for null. */
    public UNetConfig withTimeCondProjDim(Integer dim) {
        return new UNetConfig(sampleSize, inChannels, outChannels, centerInputSample, flipSinToCos, freqShift,
                downBlockTypes, midBlockType, upBlockTypes, onlyCrossAttention, blockOutChannels, layersPerBlock,
                downsamplePadding, midBlockScaleFactor, dropout, actFn, normNumGroups, normEps, crossAttentionDim,
                transformerLayersPerBlock, attentionHeadDim, numAttentionHeads, useLinearProjection, upcastAttention,
                resnetOutScaleFactor, timeEmbeddingDim, dim, convInKernel, convOutKernel, attentionKind,
                sharedKvProjection, ffActivation, ffMult, separableConvLevels, selfAttentionLevels,
                midBlockSelfAttention, midBlockTransformerLayers, midBlockResnets);
    }

    /** The level served by up block j. */
    public int levelOfUpBlock(int j) {
        return levels() - 1 - j;
    }

    /** Feed-forward inner width for a transformer of width dim, as diffusers' int(dim * mult). */
    public int ffInnerDim(int dim) {
        return (int) (dim * ffMult);
    }

    // ---- writing ----

    /** The config as a diffusers {@code config.json}; MobileDiffusion keys only when they differ from SD. */
    public ObjectNode toJsonNode() {
        ObjectNode o = JsonConfig.MAPPER.createObjectNode();
        o.put("_class_name", CLASS_NAME);
        o.put("act_fn", actFn);
        o.putNull("addition_embed_type");
        o.put("addition_embed_type_num_heads", 64);
        o.putNull("addition_time_embed_dim");
        JsonConfig.putInts(o, "attention_head_dim", attentionHeadDim);
        o.put("attention_type", "default");
        JsonConfig.putInts(o, "block_out_channels", blockOutChannels);
        o.put("center_input_sample", centerInputSample);
        o.putNull("class_embed_type");
        o.put("class_embeddings_concat", false);
        o.put("conv_in_kernel", convInKernel);
        o.put("conv_out_kernel", convOutKernel);
        JsonConfig.putInts(o, "cross_attention_dim", crossAttentionDim);
        o.putNull("cross_attention_norm");
        ArrayNode downs = o.putArray("down_block_types");
        downBlockTypes.forEach(t -> downs.add(t.diffusersName()));
        o.put("downsample_padding", downsamplePadding);
        o.put("dropout", dropout);
        o.put("dual_cross_attention", false);
        o.putNull("encoder_hid_dim");
        o.putNull("encoder_hid_dim_type");
        o.put("flip_sin_to_cos", flipSinToCos);
        o.put("freq_shift", freqShift);
        o.put("in_channels", inChannels);
        JsonConfig.putInts(o, "layers_per_block", layersPerBlock);
        o.putNull("mid_block_only_cross_attention");
        o.put("mid_block_scale_factor", midBlockScaleFactor);
        o.put("mid_block_type", midBlockType.diffusersName());
        o.put("norm_eps", normEps);
        o.put("norm_num_groups", normNumGroups);
        if (numAttentionHeads == null) {
            o.putNull("num_attention_heads");
        } else {
            JsonConfig.putInts(o, "num_attention_heads", numAttentionHeads);
        }
        o.putNull("num_class_embeds");
        ArrayNode only = o.putArray("only_cross_attention");
        onlyCrossAttention.forEach(only::add);
        o.put("out_channels", outChannels);
        o.putNull("projection_class_embeddings_input_dim");
        o.put("resnet_out_scale_factor", resnetOutScaleFactor);
        o.put("resnet_skip_time_act", false);
        o.put("resnet_time_scale_shift", "default");
        o.putNull("reverse_transformer_layers_per_block");
        if (sampleSize == null) {
            o.putNull("sample_size");
        } else {
            o.put("sample_size", sampleSize);
        }
        if (timeCondProjDim == null) {
            o.putNull("time_cond_proj_dim");
        } else {
            o.put("time_cond_proj_dim", timeCondProjDim);
        }
        o.putNull("time_embedding_act_fn");
        if (timeEmbeddingDim == null) {
            o.putNull("time_embedding_dim");
        } else {
            o.put("time_embedding_dim", timeEmbeddingDim);
        }
        o.put("time_embedding_type", "positional");
        o.putNull("timestep_post_act");
        JsonConfig.putInts(o, "transformer_layers_per_block", transformerLayersPerBlock);
        ArrayNode ups = o.putArray("up_block_types");
        upBlockTypes.forEach(t -> ups.add(t.diffusersName()));
        o.put("upcast_attention", upcastAttention);
        o.put("use_linear_projection", useLinearProjection);
        putMobileDiffusionKeys(o);
        return o;
    }

    private void putMobileDiffusionKeys(ObjectNode o) {
        if (attentionKind != Ops.AttentionKind.SOFTMAX) {
            o.put("attention_kind", attentionKind.name().toLowerCase(Locale.ROOT));
        }
        if (sharedKvProjection) {
            o.put("shared_kv_projection", true);
        }
        if (ffActivation != FeedForwardActivation.GEGLU) {
            o.put("ff_activation", ffActivation.configName());
        }
        if (ffMult != DEFAULT_FF_MULT) {
            o.put("ff_mult", ffMult);
        }
        if (separableConvLevels.contains(true)) {
            ArrayNode a = o.putArray("separable_conv_levels");
            separableConvLevels.forEach(a::add);
        }
        if (selfAttentionLevels.contains(false)) {
            ArrayNode a = o.putArray("self_attention_levels");
            selfAttentionLevels.forEach(a::add);
        }
        if (midBlockSelfAttention != selfAttentionLevels.get(levels() - 1)) {
            o.put("mid_block_self_attention", midBlockSelfAttention);
        }
        if (midBlockTransformerLayers != transformerLayersPerBlock.get(levels() - 1)) {
            o.put("mid_block_transformer_layers", midBlockTransformerLayers);
        }
        if (midBlockResnets != DEFAULT_MID_BLOCK_RESNETS) {
            o.put("mid_block_resnets", midBlockResnets);
        }
    }

    /** The config as pretty-printed JSON text. */
    public String toJson() {
        return JsonConfig.pretty(toJsonNode());
    }
}
