package dev.mdx.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.io.ModelFormatException;
import dev.mdx.testing.Golden;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class UNetConfigTest {
    @Test
    void goldenConfigsRoundTripThroughJson() {
        List<Path> dirs = Golden.componentDirs("UNet2DConditionModel");
        assertTrue(!dirs.isEmpty());
        for (Path dir : dirs) {
            UNetConfig c = UNetConfig.read(dir.resolve("config.json"));
            assertEquals(c, UNetConfig.parse("round trip", c.toJson()));
        }
    }

    @Test
    void perBlockListsAndHeads() {
        UNetConfig c = UNetConfig.parse("t", """
                {"block_out_channels": [32, 64], "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
                 "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "attention_head_dim": [2, 4],
                 "layers_per_block": [1, 2], "transformer_layers_per_block": 3, "norm_num_groups": 8}""");
        assertEquals(List.of(2, 4), c.attentionHeadDim());
        assertEquals(2, c.heads(0));
        assertEquals(4, c.heads(1));
        assertEquals(1, c.levelOfUpBlock(0));
        assertEquals(List.of(1, 2), c.layersPerBlock());
        assertEquals(List.of(3, 3), c.transformerLayersPerBlock());
        assertEquals(3, c.midBlockTransformerLayers());
        assertEquals(128, c.timeEmbedDim());
        UNetConfig withHeads = UNetConfig.parse("t", """
                {"block_out_channels": [32, 64], "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
                 "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "attention_head_dim": 8,
                 "num_attention_heads": [1, 2], "norm_num_groups": 8}""");
        assertEquals(1, withHeads.heads(0));
        assertEquals(2, withHeads.heads(1));
    }

    @Test
    void unsupportedOptionsAreRejectedByName() {
        assertRejected("\"class_embed_type\": \"timestep\"", "class_embed_type");
        assertRejected("\"addition_embed_type\": \"text_time\"", "addition_embed_type");
        assertRejected("\"resnet_time_scale_shift\": \"scale_shift\"", "resnet_time_scale_shift");
        assertRejected("\"act_fn\": \"gelu\"", "act_fn");
        assertRejected("\"mid_block_type\": \"UNetMidBlock2DSimpleCrossAttn\"", "mid_block_type");
        assertRejected("\"down_block_types\": [\"SimpleCrossAttnDownBlock2D\", \"DownBlock2D\"]", "down_block_types");
        assertRejected("\"attention_head_dim\": [2, 4, 8]", "attention_head_dim");
        assertRejected("\"attention_head_dim\": 5", "attention_head_dim");
        assertRejected("\"norm_num_groups\": 5", "norm_num_groups");
        assertRejected("\"attention_kind\": \"linear\"", "attention_kind");
        assertRejected("\"ff_activation\": \"relu\"", "ff_activation");
        assertRejected("\"separable_conv_levels\": [true]", "separable_conv_levels");
    }

    /** Values that would otherwise fail deep inside model construction or generation, named at read time. */
    @Test
    void valuesTheModelCannotBuildAreRejectedByName() {
        // GuidanceEmbedding needs 4 columns; Timesteps needs a sine and a cosine half
        assertRejected("\"time_cond_proj_dim\": 2", "time_cond_proj_dim");
        assertRejected("\"sample_size\": -4", "sample_size");
        assertRejected("\"ff_mult\": 0.01", "ff_mult");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> UNetConfig.parse("cfg.json", """
                {"block_out_channels": [1], "down_block_types": ["DownBlock2D"], "up_block_types": ["UpBlock2D"],
                 "norm_num_groups": 1, "attention_head_dim": 1}"""));
        assertTrue(e.getMessage().startsWith("cfg.json: field 'block_out_channels'"), e.getMessage());
    }

    private static void assertRejected(String field, String name) {
        String json = "{\"block_out_channels\": [32, 64], \"down_block_types\": [\"CrossAttnDownBlock2D\", "
                + "\"DownBlock2D\"], \"up_block_types\": [\"UpBlock2D\", \"CrossAttnUpBlock2D\"], "
                + "\"attention_head_dim\": 4, \"norm_num_groups\": 8, " + field + "}";
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> UNetConfig.parse("cfg.json", json));
        assertTrue(e.getMessage().contains("'" + name + "'"), e.getMessage());
    }

    /** The published parameter counts of the SD-1.5 and SD-2.1 UNets, from their configs alone (no weights). */
    @Test
    void stableDiffusionParameterCounts() {
        UNetConfig sd15 = UNetConfig.parse("sd15", "{\"cross_attention_dim\": 768, \"sample_size\": 64}");
        assertEquals(859_520_964L, UNet2DConditionModel.fromConfig(sd15).parameterCount());
        UNetConfig sd21 = UNetConfig.parse("sd21", """
                {"cross_attention_dim": 1024, "attention_head_dim": [5, 10, 20, 20], "use_linear_projection": true,
                 "sample_size": 96}""");
        assertEquals(865_910_724L, UNet2DConditionModel.fromConfig(sd21).parameterCount());
    }
}
