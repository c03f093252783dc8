package dev.mdx.bench;

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
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every shipped preset parses, builds, and has the parameter count its design calls for. */
class PresetsTest {
    private static long unetParams(String preset) {
        return UNet2DConditionModel.fromConfig(Presets.unet(preset)).parameterCount();
    }

    @Test
    void everyPresetBuildsAllItsComponents() {
        for (String name : Presets.NAMES) {
            assertTrue(unetParams(name) > 0, name);
            assertTrue(new ClipTextModel(Presets.textEncoder(name)).parameterCount() > 0, name);
            AutoencoderKL vae = new AutoencoderKL(Presets.vae(name));
            assertEquals(Presets.unet(name).inChannels(), vae.config().latentChannels(),
                    name + ": the UNet reads the VAE's latents");
            assertEquals(Presets.unet(name).crossAttentionDim().get(0), Presets.textEncoder(name).hiddenSize(),
                    name + ": cross-attention reads the text encoder's hidden states");
        }
    }

    @Test
    void sd15HasTheOfficialParameterCount() {
        assertEquals(859_520_964L, unetParams("sd15"));
    }

    @Test
    void tinyPresetsFollowTheMobileDiffusionDesign() {
        for (String name : List.of("mobilediffusion-tiny", "mobilediffusion-tiny-fashion")) {
            UNetConfig c = Presets.unet(name);
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
        assertEquals(8, Presets.unet("mobilediffusion-tiny").inChannels());
        assertEquals(16, Presets.unet("mobilediffusion-tiny").sampleSize());
        assertEquals(4, Presets.unet("mobilediffusion-tiny-fashion").inChannels());
        assertEquals(8, Presets.unet("mobilediffusion-tiny-fashion").sampleSize());
        // sized to train on a 2-core CPU
        assertEquals(14_111_304L, unetParams("mobilediffusion-tiny"));
        assertEquals(8_415_940L, unetParams("mobilediffusion-tiny-fashion"));
    }

    @Test
    void unknownPresetIsAClearError() {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Presets.unet("nope"));
        assertTrue(e.getMessage().contains("unknown preset 'nope'"), e.getMessage());
        assertTrue(e.getMessage().contains("sd15"), e.getMessage());
    }
}
