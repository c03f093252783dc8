package dev.mdx.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.io.ModelFormatException;
import dev.mdx.nn.FeedForwardActivation;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.DownBlockType;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.VaeDecoderConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every shipped preset parses, builds, and has the parameter count its design calls for. */
class ArchitecturePresetsTest {
    private static long unetParams(String preset) {
        return UNet2DConditionModel.fromConfig(ArchitecturePresets.unet(preset)).parameterCount();
    }

    @Test
    void everyPresetBuildsAllItsComponents() {
        for (String name : ArchitecturePresets.NAMES) {
            assertTrue(unetParams(name) > 0, name);
            assertTrue(new ClipTextModel(ArchitecturePresets.textEncoder(name)).parameterCount() > 0, name);
            AutoencoderKL vae = new AutoencoderKL(ArchitecturePresets.vae(name));
            assertEquals(ArchitecturePresets.unet(name).inChannels(), vae.config().latentChannels(),
                    name + ": the UNet reads the VAE's latents");
            assertEquals(ArchitecturePresets.unet(name).crossAttentionDim().get(0),
                    ArchitecturePresets.textEncoder(name).hiddenSize(), name + ": cross-attention reads the text encoder's hidden states");
        }
    }

    @Test
    void sd15HasTheOfficialParameterCount() {
        assertEquals(859_520_964L, unetParams("sd15"));
    }

    /** Paper notes 2.1: MobileDiffusion's UNet has about 386M parameters and 12 ResNet blocks. */
    @Test
    void mobileDiffusionHasThePaperSizeAndTwelveResBlocks() {
        long params = unetParams("mobilediffusion");
        assertEquals(386e6, params, 0.03 * 386e6, "MobileDiffusion UNet parameters: " + params);
        assertEquals(391_177_800L, params);
        assertEquals(12, resnetBlocks("mobilediffusion"));
        assertEquals(22, resnetBlocks("sd15"), "SD-1.5's count as the paper gives it");
        UNetConfig c = ArchitecturePresets.unet("mobilediffusion");
        assertEquals(List.of(320, 640, 1024), c.blockOutChannels());
        assertEquals(8, c.inChannels());
        assertEquals(768, c.crossAttentionDim().get(0));
    }

    /** Paper notes 2.1: MobileDiffusion-Lite is 29.9% of SD-1.5. */
    @Test
    void liteIsAboutThirtyPercentOfSd15() {
        double ratio = (double) unetParams("mobilediffusion-lite") / unetParams("sd15");
        assertEquals(0.299, ratio, 0.01, "lite / sd15 = " + ratio);
        assertEquals(253_111_496L, unetParams("mobilediffusion-lite"));
    }

    @Test
    void textEncodersAndVaesOfThePaperSizedPresets() {
        for (String name : List.of("mobilediffusion", "mobilediffusion-lite", "sd15")) {
            assertEquals(123_060_480L, new ClipTextModel(ArchitecturePresets.textEncoder(name)).parameterCount(),
                    name + ": CLIP ViT-L/14 text encoder");
            AutoencoderKL full = new AutoencoderKL(ArchitecturePresets.vae(name));
            AutoencoderKL light = new AutoencoderKL(ArchitecturePresets.vaeLight(name));
            assertEquals(name.equals("sd15") ? 4 : 8, full.config().latentChannels(), name);
            assertEquals(full.config().latentChannels(), light.config().latentChannels(), name);
            assertEquals(encoderParams(full), encoderParams(light), name + ": the light VAE keeps the encoder");
            long lightDecoder = decoderParams(light);
            if (name.equals("sd15")) { // SD's decoder pruned in width and depth, diffusers' upsampling
                assertEquals(9.8e6, lightDecoder, 0.5e6, name + " light decoder (paper notes 4: ~9.8M): " + lightDecoder);
            } else { // sub-pixel upsampling, 16 channels at full resolution (BENCHMARKS.md: the one-step target)
                assertEquals(VaeDecoderConfig.Upsampling.PIXEL_SHUFFLE, light.config().decoder().upsampling(), name);
                assertEquals(List.of(16, 32, 128, 256), light.config().decoder().blockOutChannels(), name);
                assertTrue(lightDecoder < 9.8e6, name + " light decoder within the paper's ~9.8M: " + lightDecoder);
            }
            assertEquals(name.equals("sd15") ? 49_490_199L : 49_508_683L, decoderParams(full), name);
        }
        for (String name : List.of("mobilediffusion-tiny", "mobilediffusion-tiny-fashion")) {
            assertFalse(ArchitecturePresets.has(name, ArchitecturePresets.VAE_LIGHT), name);
        }
    }

    private static long resnetBlocks(String preset) {
        return UNet2DConditionModel.fromConfig(ArchitecturePresets.unet(preset)).namedParameters().keySet().stream()
                .filter(k -> k.contains(".resnets."))
                .map(k -> k.substring(0, k.indexOf(".resnets.") + ".resnets.".length() + 2))
                .distinct().count();
    }

    private static long decoderParams(AutoencoderKL vae) {
        return vae.namedParameters().entrySet().stream()
                .filter(e -> e.getKey().startsWith("decoder.") || e.getKey().startsWith("post_quant_conv."))
                .mapToLong(e -> e.getValue().shape().size()).sum();
    }

    private static long encoderParams(AutoencoderKL vae) {
        return vae.parameterCount() - decoderParams(vae);
    }

    @Test
    void tinyPresetsFollowTheMobileDiffusionDesign() {
        for (String name : List.of("mobilediffusion-tiny", "mobilediffusion-tiny-fashion")) {
            UNetConfig c = ArchitecturePresets.unet(name);
            assertEquals(3, c.levels(), name);
            assertEquals(DownBlockType.DOWN_BLOCK_2D, c.downBlockTypes().get(0), name + ": no transformer at 1x");
            assertFalse(c.upBlockTypes().get(2).hasAttention(), name + ": no transformer at 1x");
            assertEquals(List.of(false, false, true), c.selfAttentionLevels(), name + ": CA-only in the middle");
            assertTrue(c.midBlockSelfAttention(), name);
            assertTrue(c.midBlockTransformerLayers() > c.transformerLayersPerBlock().get(2),
                    name + ": the deepest stack is in the mid block");
            assertEquals(List.of(1, 1, 2), c.layersPerBlock(), name);
            assertEquals(List.of(false, true, true), c.separableConvLevels(), name);
            assertTrue(c.sharedKvProjection(), name);
            assertEquals(FeedForwardActivation.SWIGLU, c.ffActivation(), name);
            assertEquals(3.0, c.ffMult(), name);
            assertEquals(List.of(256, 256, 256), c.crossAttentionDim(), name);
        }
        assertEquals(8, ArchitecturePresets.unet("mobilediffusion-tiny").inChannels());
        assertEquals(16, ArchitecturePresets.unet("mobilediffusion-tiny").sampleSize());
        assertEquals(4, ArchitecturePresets.unet("mobilediffusion-tiny-fashion").inChannels());
        assertEquals(8, ArchitecturePresets.unet("mobilediffusion-tiny-fashion").sampleSize());
        // sized to train on a 2-core CPU
        assertEquals(14_111_304L, unetParams("mobilediffusion-tiny"));
        assertEquals(8_415_940L, unetParams("mobilediffusion-tiny-fashion"));
    }

    @Test
    void unknownPresetIsAClearError() {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ArchitecturePresets.unet("nope"));
        assertTrue(e.getMessage().contains("unknown preset 'nope'"), e.getMessage());
        assertTrue(e.getMessage().contains("sd15"), e.getMessage());
    }
}
