package dev.mdx.vae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.testing.Golden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** Writing VaeConfig as config.json and reading it back, including the light decoder's decoder_* keys. */
class VaeConfigJsonTest {
    private static final VaeConfig BASE = new VaeConfig(3, 3, 8, List.of(32, 64, 64), 1, 16, 0.61803,
            OptionalDouble.empty(), 64, true, true, true, null);

    private static VaeConfig roundTrip(VaeConfig c) {
        return VaeConfig.from(JsonConfig.parse("round trip", c.toJson()));
    }

    @Test
    void standardConfigRoundTripsWithoutDecoderKeys() throws Exception {
        VaeConfig golden = VaeConfig.read(Golden.componentDirs("AutoencoderKL").get(0).resolve("config.json"));
        for (VaeConfig c : List.of(BASE, golden, BASE.withScalingFactor(0.25))) {
            assertEquals(c, roundTrip(c));
            JsonNode json = c.toJsonNode();
            for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
                assertFalse(it.next().startsWith("decoder_"), "a standard VAE needs no decoder_* key: " + json);
            }
        }
        // every key diffusers wrote into the golden config and that we model is written back with its value
        JsonNode original = JsonConfig.MAPPER.readTree(Files.readString(
                Golden.componentDirs("AutoencoderKL").get(0).resolve("config.json")));
        JsonNode written = golden.toJsonNode();
        for (String key : List.of("block_out_channels", "down_block_types", "up_block_types", "in_channels",
                "latent_channels", "layers_per_block", "norm_num_groups", "out_channels", "sample_size",
                "scaling_factor", "act_fn")) {
            assertEquals(original.get(key), written.get(key), key);
        }
        assertEquals(0.25, roundTrip(BASE.withScalingFactor(0.25)).scalingFactor());
    }

    @Test
    void lightDecoderRoundTripsThroughConfigJson() {
        // 24 is not a multiple of the encoder's 16 groups: channels and groups must be validated together
        VaeDecoderConfig light = new VaeDecoderConfig(8, 3, List.of(24, 48, 48), 0, 8, false);
        VaeConfig c = BASE.withDecoder(light);
        JsonNode json = c.toJsonNode();
        assertEquals("[24,48,48]", json.get(VaeConfig.DECODER_BLOCK_OUT_CHANNELS).toString());
        assertEquals(0, json.get(VaeConfig.DECODER_LAYERS_PER_BLOCK).asInt());
        assertEquals(8, json.get(VaeConfig.DECODER_NORM_NUM_GROUPS).asInt());
        assertFalse(json.get(VaeConfig.DECODER_MID_BLOCK_ATTENTION).asBoolean());
        VaeConfig back = roundTrip(c);
        assertEquals(c, back);
        assertEquals(light, back.decoder());
        assertEquals(BASE.derivedDecoder(), back.derivedDecoder(), "the encoder side is unchanged");

        // only the fields that differ are written; the others come from the encoder's keys
        VaeConfig noAttention = BASE.withDecoder(BASE.decoder().withMidBlockAttention(false));
        JsonNode partial = noAttention.toJsonNode();
        assertTrue(partial.has(VaeConfig.DECODER_MID_BLOCK_ATTENTION));
        assertFalse(partial.has(VaeConfig.DECODER_BLOCK_OUT_CHANNELS));
        assertFalse(partial.has(VaeConfig.DECODER_LAYERS_PER_BLOCK));
        assertEquals(noAttention, roundTrip(noAttention));

        // the model built from the parsed file has the light decoder's weights and no others
        AutoencoderKL model = new AutoencoderKL(back);
        assertTrue(model.namedParameters().containsKey("decoder.up_blocks.2.resnets.0.conv1.weight"));
        assertFalse(model.namedParameters().containsKey("decoder.up_blocks.2.resnets.1.conv1.weight"));
        assertFalse(model.namedParameters().keySet().stream().anyMatch(k -> k.startsWith("decoder.mid_block.attentions")));
        assertTrue(model.namedParameters().containsKey("encoder.mid_block.attentions.0.to_q.weight"));
        assertEquals(new ai.djl.ndarray.types.Shape(48, 8, 3, 3),
                model.namedParameters().get("decoder.conv_in.weight").shape());
        assertEquals(new ai.djl.ndarray.types.Shape(24), model.namedParameters().get("decoder.conv_norm_out.weight").shape());
    }

    /**
     * BASE has 3 levels ([32, 64, 64] in encoder order): decoder blocks 0, 1, 2 at widths 48, 32, 16 here. Each
     * upsampler's conv makes 4x the next block's width at its own block's resolution; the next block then needs
     * no shortcut conv.
     */
    @Test
    void pixelShuffleDecoderRoundTripsAndShapesItsUpsamplers() {
        VaeDecoderConfig shuffle = new VaeDecoderConfig(8, 3, List.of(16, 32, 48), 0, 8, false,
                VaeDecoderConfig.Upsampling.PIXEL_SHUFFLE);
        VaeConfig c = BASE.withDecoder(shuffle);
        assertEquals("pixel_shuffle", c.toJsonNode().get(VaeConfig.DECODER_UPSAMPLE).asText());
        assertFalse(BASE.toJsonNode().has(VaeConfig.DECODER_UPSAMPLE), "diffusers' upsampling writes no key");
        assertEquals(c, roundTrip(c));
        assertEquals(BASE.downsampleFactor(), c.downsampleFactor());

        var params = new AutoencoderKL(c).namedParameters();
        assertEquals(new ai.djl.ndarray.types.Shape(4 * 32, 48, 3, 3),
                params.get("decoder.up_blocks.0.upsamplers.0.conv.weight").shape());
        assertEquals(new ai.djl.ndarray.types.Shape(4 * 16, 32, 3, 3),
                params.get("decoder.up_blocks.1.upsamplers.0.conv.weight").shape());
        assertFalse(params.keySet().stream().anyMatch(k -> k.startsWith("decoder.up_blocks.2.upsamplers")));
        assertFalse(params.keySet().stream().anyMatch(k -> k.contains("conv_shortcut") && k.startsWith("decoder.")),
                "each upsampler already made the next block's width");
        assertEquals(new ai.djl.ndarray.types.Shape(3, 16, 3, 3), params.get("decoder.conv_out.weight").shape());
    }

    @Test
    void rejectsBadDecoderKeysByName(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        String[][] bad = {
            {VaeConfig.DECODER_BLOCK_OUT_CHANNELS, "[16, 32]"},
            {VaeConfig.DECODER_LAYERS_PER_BLOCK, "-1"},
            {VaeConfig.DECODER_NORM_NUM_GROUPS, "5"},
            {VaeConfig.DECODER_MID_BLOCK_ATTENTION, "\"no\""},
            {VaeConfig.DECODER_UPSAMPLE, "\"bilinear\""},
        };
        for (String[] b : bad) {
            ObjectNode json = (ObjectNode) BASE.toJsonNode();
            json.set(b[0], JsonConfig.MAPPER.readTree(b[1]));
            Path file = tmp.resolve(b[0] + ".json");
            Files.writeString(file, json.toString());
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> VaeConfig.read(file), b[0]);
            String field = b[0].equals(VaeConfig.DECODER_NORM_NUM_GROUPS) ? "norm_num_groups" : b[0];
            assertTrue(e.getMessage().contains(field), e.getMessage());
            assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        }
        assertThrows(ModelFormatException.class, () -> BASE.withDecoder(
                BASE.decoder().withBlockOutChannels(List.of(16, 32))), "level count must match");
    }
}
