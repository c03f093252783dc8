package dev.mdx.vae;

import dev.mdx.io.ModelFormatException;
import java.util.List;

/**
 * Shape of a VAE decoder. Normally derived from the AutoencoderKL config; a lighter decoder (fewer channels,
 * fewer resnets, no mid-block attention) keeps the same diffusers key names and only changes this record.
 *
 * @param latentChannels channels of the latent the decoder reads
 * @param outChannels image channels it writes
 * @param blockOutChannels channels per level in encoder order (the decoder walks them in reverse)
 * @param layersPerBlock diffusers' {@code layers_per_block}; each up block has one more resnet than this (0 is
 *     allowed: one resnet per up block)
 * @param normNumGroups GroupNorm groups of every norm in the decoder
 * @param midBlockAttention whether the mid block holds its single-head self-attention
 */
public record VaeDecoderConfig(int latentChannels, int outChannels, List<Integer> blockOutChannels,
        int layersPerBlock, int normNumGroups, boolean midBlockAttention) {

    public VaeDecoderConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        VaeConfig.checkPositive("latent_channels", latentChannels);
        VaeConfig.checkPositive("out_channels", outChannels);
        if (layersPerBlock < 0) {
            throw new ModelFormatException("VAE config: decoder layers_per_block must be >= 0, got " + layersPerBlock);
        }
        VaeConfig.checkChannels(blockOutChannels, normNumGroups);
    }

    /** Number of resolution levels; all but the last double the spatial size. */
    public int levels() {
        return blockOutChannels.size();
    }

    public VaeDecoderConfig withBlockOutChannels(List<Integer> channels) {
        return new VaeDecoderConfig(latentChannels, outChannels, channels, layersPerBlock, normNumGroups,
                midBlockAttention);
    }

    public VaeDecoderConfig withLayersPerBlock(int layers) {
        return new VaeDecoderConfig(latentChannels, outChannels, blockOutChannels, layers, normNumGroups,
                midBlockAttention);
    }

    public VaeDecoderConfig withNormNumGroups(int groups) {
        return new VaeDecoderConfig(latentChannels, outChannels, blockOutChannels, layersPerBlock, groups,
                midBlockAttention);
    }

    public VaeDecoderConfig withMidBlockAttention(boolean attention) {
        return new VaeDecoderConfig(latentChannels, outChannels, blockOutChannels, layersPerBlock, normNumGroups,
                attention);
    }
}
