package dev.mdx.vae;

import dev.mdx.io.EnumNames;
import dev.mdx.io.ModelFormatException;
import java.util.List;

/**
 * Shape of a VAE decoder. Normally derived from the AutoencoderKL config; a lighter decoder (fewer channels,
 * fewer resnets, no mid-block attention, sub-pixel upsampling) keeps diffusers' key names and only changes this
 * record.
 *
 * <p>Up blocks are numbered in decoder order (0 reads the mid block's output at the latent resolution) and level i
 * has width {@link #width(int)}; every block but the last ends in an x2 upsampler. With
 * {@link Upsampling#NEAREST_CONV} (diffusers) that is a nearest x2 upsample and a 3x3 conv at the doubled
 * resolution keeping the block's width, so each level's width is paid for at the next level's resolution. With
 * {@link Upsampling#PIXEL_SHUFFLE} it is a 3x3 conv at the block's own resolution to 4x the <em>next</em> block's
 * width followed by a depth-to-space x2 (a sub-pixel convolution): the doubled resolution only ever holds the next,
 * narrower level's width.
 *
 * @param latentChannels channels of the latent the decoder reads
 * @param outChannels image channels it writes
 * @param blockOutChannels channels per level in encoder order (the decoder walks them in reverse)
 * @param layersPerBlock diffusers' {@code layers_per_block}; each up block has one more resnet than this (0 is
 *     allowed: one resnet per up block)
 * @param normNumGroups GroupNorm groups of every norm in the decoder
 * @param midBlockAttention whether the mid block holds its single-head self-attention
 * @param upsampling how each x2 upsample is made
 */
public record VaeDecoderConfig(int latentChannels, int outChannels, List<Integer> blockOutChannels,
        int layersPerBlock, int normNumGroups, boolean midBlockAttention, Upsampling upsampling) {

    /** How the decoder doubles the resolution; {@link #key()} is the config.json value. */
    public enum Upsampling {
        /** diffusers' Upsample2D: nearest x2, then a 3x3 conv at the doubled resolution. */
        NEAREST_CONV("nearest_conv"),
        /** A 3x3 conv to 4x the channels at the lower resolution, then depth-to-space x2 (sub-pixel conv). */
        PIXEL_SHUFFLE("pixel_shuffle");

        private final String key;

        Upsampling(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }

        /** The value named {@code key}, or null. */
        public static Upsampling fromKey(String key) {
            return EnumNames.find(values(), u -> u.key, key);
        }
    }

    public VaeDecoderConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        VaeConfig.checkPositive("latent_channels", latentChannels);
        VaeConfig.checkPositive("out_channels", outChannels);
        if (layersPerBlock < 0) {
            throw new ModelFormatException("VAE config: decoder layers_per_block must be >= 0, got " + layersPerBlock);
        }
        VaeConfig.checkChannels(blockOutChannels, normNumGroups);
        if (upsampling == null) {
            throw new ModelFormatException("VAE config: decoder upsampling must be given");
        }
    }

    /** A decoder with diffusers' nearest-neighbour upsampling. */
    public VaeDecoderConfig(int latentChannels, int outChannels, List<Integer> blockOutChannels, int layersPerBlock,
            int normNumGroups, boolean midBlockAttention) {
        this(latentChannels, outChannels, blockOutChannels, layersPerBlock, normNumGroups, midBlockAttention,
                Upsampling.NEAREST_CONV);
    }

    /** Number of resolution levels; together they double the spatial size levels - 1 times. */
    public int levels() {
        return blockOutChannels.size();
    }

    /** Width of up block i in decoder order (0 at the latent resolution). */
    public int width(int block) {
        return blockOutChannels.get(levels() - 1 - block);
    }

    /** Whether up block i ends in an upsampler ({@code up_blocks.i.upsamplers.0}): all but the last. */
    public boolean hasUpsampler(int block) {
        return block < levels() - 1;
    }

    /** Channels up block i's upsampler leaves at the doubled resolution (its conv makes 4x that when shuffled). */
    public int upsampledChannels(int block) {
        return upsampling == Upsampling.PIXEL_SHUFFLE ? width(block + 1) : width(block);
    }

    /** Channels entering up block i: the mid block's width, or what the previous block's upsampler left. */
    public int blockInChannels(int block) {
        return block == 0 ? width(0) : upsampledChannels(block - 1);
    }

    public VaeDecoderConfig withBlockOutChannels(List<Integer> channels) {
        return new VaeDecoderConfig(latentChannels, outChannels, channels, layersPerBlock, normNumGroups,
                midBlockAttention, upsampling);
    }

    public VaeDecoderConfig withLayersPerBlock(int layers) {
        return new VaeDecoderConfig(latentChannels, outChannels, blockOutChannels, layers, normNumGroups,
                midBlockAttention, upsampling);
    }

    public VaeDecoderConfig withNormNumGroups(int groups) {
        return new VaeDecoderConfig(latentChannels, outChannels, blockOutChannels, layersPerBlock, groups,
                midBlockAttention, upsampling);
    }

    public VaeDecoderConfig withMidBlockAttention(boolean attention) {
        return new VaeDecoderConfig(latentChannels, outChannels, blockOutChannels, layersPerBlock, normNumGroups,
                attention, upsampling);
    }

    public VaeDecoderConfig withUpsampling(Upsampling newUpsampling) {
        return new VaeDecoderConfig(latentChannels, outChannels, blockOutChannels, layersPerBlock, normNumGroups,
                midBlockAttention, newUpsampling);
    }
}
