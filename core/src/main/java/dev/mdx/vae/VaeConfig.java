package dev.mdx.vae;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The diffusers {@code AutoencoderKL} config ({@code vae/config.json}).
 *
 * @param inChannels image channels the encoder reads
 * @param outChannels image channels the decoder writes
 * @param latentChannels latent channels (the encoder produces twice as many: mean and log-variance)
 * @param blockOutChannels channels per encoder level; every level but the last halves the spatial size
 * @param layersPerBlock resnets per encoder level
 * @param normNumGroups GroupNorm groups
 * @param scalingFactor latents are multiplied by this after encoding and divided by it before decoding
 * @param shiftFactor subtracted before scaling (and added back after) when present (newer VAEs only)
 * @param sampleSize nominal image size the model was trained at
 * @param midBlockAttention whether the encoder's mid block holds its self-attention
 * @param useQuantConv whether the 1x1 {@code quant_conv} follows the encoder
 * @param usePostQuantConv whether the 1x1 {@code post_quant_conv} precedes the decoder
 * @param decoder the decoder's shape; null derives it from the fields above (see {@link #withDecoder})
 *
 * <p>A decoder that differs from the derived one (the light decoder) is stored in {@code config.json} with the
 * optional mdx keys {@code decoder_block_out_channels}, {@code decoder_layers_per_block},
 * {@code decoder_norm_num_groups}, {@code decoder_mid_block_attention} and {@code decoder_upsample}
 * ({@code nearest_conv} or {@code pixel_shuffle}, see {@link VaeDecoderConfig}); each absent key takes the
 * encoder's value ({@code block_out_channels}, {@code layers_per_block}, {@code norm_num_groups},
 * {@code mid_block_add_attention}, diffusers' nearest-neighbour upsampling). diffusers ignores these keys, so it
 * cannot load a light decoder.
 */
public record VaeConfig(int inChannels, int outChannels, int latentChannels, List<Integer> blockOutChannels,
        int layersPerBlock, int normNumGroups, double scalingFactor, OptionalDouble shiftFactor, int sampleSize,
        boolean midBlockAttention, boolean useQuantConv, boolean usePostQuantConv, VaeDecoderConfig decoder) {

    /** diffusers builds every VAE norm (resnets, attention, conv_norm_out) with eps 1e-6; it is not in the config. */
    public static final float NORM_EPS = 1e-6f;

    public static final String DECODER_BLOCK_OUT_CHANNELS = "decoder_block_out_channels";
    public static final String DECODER_LAYERS_PER_BLOCK = "decoder_layers_per_block";
    public static final String DECODER_NORM_NUM_GROUPS = "decoder_norm_num_groups";
    public static final String DECODER_MID_BLOCK_ATTENTION = "decoder_mid_block_attention";
    public static final String DECODER_UPSAMPLE = "decoder_upsample";

    /** diffusers' AutoencoderKL defaults for the keys that very old configs may omit. */
    private static final double DEFAULT_SCALING_FACTOR = 0.18215;
    private static final int DEFAULT_SAMPLE_SIZE = 32;

    public VaeConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        checkPositive("in_channels", inChannels);
        checkPositive("out_channels", outChannels);
        checkPositive("latent_channels", latentChannels);
        checkPositive("layers_per_block", layersPerBlock);
        checkPositive("sample_size", sampleSize);
        checkChannels(blockOutChannels, normNumGroups);
        if (!(scalingFactor > 0) || Double.isInfinite(scalingFactor)) {
            throw new ModelFormatException("VAE config: scaling_factor must be a positive number, got " + scalingFactor);
        }
        if (decoder == null) {
            decoder = new VaeDecoderConfig(latentChannels, outChannels, blockOutChannels, layersPerBlock,
                    normNumGroups, midBlockAttention);
        } else if (decoder.latentChannels() != latentChannels) {
            throw new ModelFormatException("VAE config: decoder reads " + decoder.latentChannels()
                    + " latent channels but the encoder writes " + latentChannels);
        } else if (decoder.levels() != blockOutChannels.size()) {
            throw new ModelFormatException("VAE config: decoder has " + decoder.levels() + " levels but the encoder has "
                    + blockOutChannels.size() + " (the decoder must upsample as often as the encoder downsamples)");
        }
    }

    /**
     * What the decoder reads for a pipeline's latents, diffusers' {@code latents / scaling_factor + shift_factor}: a
     * new array in the latents' manager.
     */
    public NDArray decoderInput(NDArray latents) {
        NDArray z = latents.div((float) scalingFactor);
        return shiftFactor.isPresent() ? z.add((float) shiftFactor.getAsDouble()) : z;
    }

    public static VaeConfig read(Path configJson) {
        return from(JsonConfig.read(configJson));
    }

    /** Parses and validates; unsupported block types, activations or latent statistics are rejected by name. */
    public static VaeConfig from(JsonConfig json) {
        String cls = json.getString("_class_name", "AutoencoderKL");
        if (!cls.equals("AutoencoderKL")) {
            throw json.error("_class_name", "is '" + cls + "'; only AutoencoderKL is supported");
        }
        int[] channels = json.getInts("block_out_channels", null);
        if (channels.length == 0) {
            throw json.error("block_out_channels", "must not be empty");
        }
        requireAll(json, "down_block_types", "DownEncoderBlock2D", channels.length);
        requireAll(json, "up_block_types", "UpDecoderBlock2D", channels.length);
        String act = json.getString("act_fn", "silu");
        if (!act.equals("silu")) {
            throw json.error("act_fn", "is '" + act + "'; only 'silu' is supported");
        }
        for (String key : List.of("latents_mean", "latents_std")) {
            if (json.has(key)) {
                throw json.error(key, "is set; per-channel latent statistics are not supported");
            }
        }
        try {
            VaeConfig base = new VaeConfig(
                    json.requireInt("in_channels"),
                    json.requireInt("out_channels"),
                    json.requireInt("latent_channels"),
                    toList(channels),
                    json.requireInt("layers_per_block"),
                    json.requireInt("norm_num_groups"),
                    json.getDouble("scaling_factor", DEFAULT_SCALING_FACTOR),
                    json.has("shift_factor") ? OptionalDouble.of(json.getDouble("shift_factor", 0))
                            : OptionalDouble.empty(),
                    json.getInt("sample_size", DEFAULT_SAMPLE_SIZE),
                    json.getBool("mid_block_add_attention", true),
                    json.getBool("use_quant_conv", true),
                    json.getBool("use_post_quant_conv", true),
                    null);
            return base.withDecoder(decoderFrom(json, base.decoder()));
        } catch (ModelFormatException e) {
            throw e.getMessage().startsWith(json.source()) ? e
                    : new ModelFormatException(json.source() + ": " + e.getMessage(), e);
        }
    }

    /** The derived decoder with any {@code decoder_*} keys of the file applied (validated together). */
    private static VaeDecoderConfig decoderFrom(JsonConfig json, VaeDecoderConfig derived) {
        List<Integer> channels = derived.blockOutChannels();
        if (json.has(DECODER_BLOCK_OUT_CHANNELS)) {
            int[] values = json.getInts(DECODER_BLOCK_OUT_CHANNELS, null);
            if (values.length != derived.levels()) {
                throw json.error(DECODER_BLOCK_OUT_CHANNELS, "has " + values.length
                        + " entries but block_out_channels has " + derived.levels()
                        + " (the decoder must upsample as often as the encoder downsamples)");
            }
            channels = toList(values);
        }
        int layers = derived.layersPerBlock();
        if (json.has(DECODER_LAYERS_PER_BLOCK)) {
            layers = json.getInt(DECODER_LAYERS_PER_BLOCK, 0);
            if (layers < 0) {
                throw json.error(DECODER_LAYERS_PER_BLOCK, "must be >= 0 (each up block has this many + 1 resnets), got "
                        + layers);
            }
        }
        int groups = json.has(DECODER_NORM_NUM_GROUPS) ? json.getInt(DECODER_NORM_NUM_GROUPS, 0)
                : derived.normNumGroups();
        boolean attention = json.has(DECODER_MID_BLOCK_ATTENTION) ? json.getBool(DECODER_MID_BLOCK_ATTENTION, true)
                : derived.midBlockAttention();
        VaeDecoderConfig.Upsampling upsampling = derived.upsampling();
        if (json.has(DECODER_UPSAMPLE)) {
            String key = json.getString(DECODER_UPSAMPLE, "");
            upsampling = VaeDecoderConfig.Upsampling.fromKey(key);
            if (upsampling == null) {
                throw json.error(DECODER_UPSAMPLE, "is '" + key + "'; expected 'nearest_conv' or 'pixel_shuffle'");
            }
        }
        return new VaeDecoderConfig(derived.latentChannels(), derived.outChannels(), channels, layers, groups,
                attention, upsampling);
    }

    private static List<Integer> toList(int[] values) {
        List<Integer> out = new ArrayList<>();
        for (int v : values) {
            out.add(v);
        }
        return out;
    }

    /** The decoder the encoder fields imply; {@link #decoder()} differs from it only for a light decoder. */
    public VaeDecoderConfig derivedDecoder() {
        return new VaeDecoderConfig(latentChannels, outChannels, blockOutChannels, layersPerBlock, normNumGroups,
                midBlockAttention);
    }

    /** The same VAE with another scaling factor (the one measured on its training data). */
    public VaeConfig withScalingFactor(double factor) {
        return new VaeConfig(inChannels, outChannels, latentChannels, blockOutChannels, layersPerBlock,
                normNumGroups, factor, shiftFactor, sampleSize, midBlockAttention, useQuantConv, usePostQuantConv,
                decoder);
    }

    /**
     * The config as a diffusers {@code config.json}; the {@code decoder_*} keys are written only for the fields in
     * which the decoder differs from the derived one, so a standard VAE's file has none of them.
     */
    public ObjectNode toJsonNode() {
        ObjectNode o = JsonConfig.MAPPER.createObjectNode();
        o.put("_class_name", "AutoencoderKL");
        o.put("act_fn", "silu");
        JsonConfig.putInts(o, "block_out_channels", blockOutChannels);
        ArrayNode downs = o.putArray("down_block_types");
        ArrayNode ups = o.putArray("up_block_types");
        for (int i = 0; i < blockOutChannels.size(); i++) {
            downs.add("DownEncoderBlock2D");
            ups.add("UpDecoderBlock2D");
        }
        o.put("in_channels", inChannels);
        o.put("latent_channels", latentChannels);
        o.put("layers_per_block", layersPerBlock);
        o.put("mid_block_add_attention", midBlockAttention);
        o.put("norm_num_groups", normNumGroups);
        o.put("out_channels", outChannels);
        o.put("sample_size", sampleSize);
        o.put("scaling_factor", scalingFactor);
        if (shiftFactor.isPresent()) {
            o.put("shift_factor", shiftFactor.getAsDouble());
        }
        o.put("use_quant_conv", useQuantConv);
        o.put("use_post_quant_conv", usePostQuantConv);
        VaeDecoderConfig derived = derivedDecoder();
        if (!decoder.blockOutChannels().equals(derived.blockOutChannels())) {
            JsonConfig.putInts(o, DECODER_BLOCK_OUT_CHANNELS, decoder.blockOutChannels());
        }
        if (decoder.layersPerBlock() != derived.layersPerBlock()) {
            o.put(DECODER_LAYERS_PER_BLOCK, decoder.layersPerBlock());
        }
        if (decoder.normNumGroups() != derived.normNumGroups()) {
            o.put(DECODER_NORM_NUM_GROUPS, decoder.normNumGroups());
        }
        if (decoder.midBlockAttention() != derived.midBlockAttention()) {
            o.put(DECODER_MID_BLOCK_ATTENTION, decoder.midBlockAttention());
        }
        if (decoder.upsampling() != derived.upsampling()) {
            o.put(DECODER_UPSAMPLE, decoder.upsampling().key());
        }
        return o;
    }

    /** The config as pretty-printed JSON text. */
    public String toJson() {
        return JsonConfig.pretty(toJsonNode());
    }

    /** The same VAE with another decoder shape (for example the light decoder); key names are unchanged. */
    public VaeConfig withDecoder(VaeDecoderConfig newDecoder) {
        return new VaeConfig(inChannels, outChannels, latentChannels, blockOutChannels, layersPerBlock,
                normNumGroups, scalingFactor, shiftFactor, sampleSize, midBlockAttention, useQuantConv,
                usePostQuantConv, newDecoder);
    }

    /** Ratio of image size to latent size: 2 per level except the last. */
    public int downsampleFactor() {
        return 1 << (blockOutChannels.size() - 1);
    }

    private static void requireAll(JsonConfig json, String key, String expected, int count) {
        List<String> types = json.getStrings(key, null);
        if (types == null) {
            return;
        }
        if (types.size() != count) {
            throw json.error(key, "has " + types.size() + " entries but block_out_channels has " + count);
        }
        for (String t : types) {
            if (!t.equals(expected)) {
                throw json.error(key, "contains '" + t + "'; only " + expected + " is supported");
            }
        }
    }

    static void checkPositive(String field, int value) {
        if (value <= 0) {
            throw new ModelFormatException("VAE config: " + field + " must be positive, got " + value);
        }
    }

    static void checkChannels(List<Integer> channels, int groups) {
        if (channels.isEmpty()) {
            throw new ModelFormatException("VAE config: block_out_channels must not be empty");
        }
        checkPositive("norm_num_groups", groups);
        for (int c : channels) {
            if (c <= 0 || c % groups != 0) {
                throw new ModelFormatException("VAE config: block_out_channels " + channels
                        + " must all be positive multiples of norm_num_groups " + groups);
            }
        }
    }
}
