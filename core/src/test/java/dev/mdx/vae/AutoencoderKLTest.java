package dev.mdx.vae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.io.StateDictMismatchException;
import dev.mdx.io.StateDicts;
import dev.mdx.testing.Golden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AutoencoderKL behaviour beyond the golden numbers: configs, the light decoder, key layouts, memory scopes. */
class AutoencoderKLTest {
    private static Path goldenDir() {
        return Golden.componentDirs("AutoencoderKL").get(0);
    }

    private static JsonConfig goldenConfigWith(String key, String jsonValue) throws Exception {
        String json = Files.readString(goldenDir().resolve("config.json"));
        var root = JsonConfig.MAPPER.readTree(json);
        ((com.fasterxml.jackson.databind.node.ObjectNode) root).set(key, JsonConfig.MAPPER.readTree(jsonValue));
        return JsonConfig.parse("vae/config.json", JsonConfig.MAPPER.writeValueAsString(root));
    }

    /** Every field as the golden config.json states it, and the downsampling factor its io tensors show. */
    @Test
    void readsTheDiffusersConfig() {
        Path dir = goldenDir();
        JsonNode json = JsonConfig.read(dir.resolve("config.json")).root();
        VaeConfig c = VaeConfig.read(dir.resolve("config.json"));
        List<Integer> channels = new ArrayList<>();
        json.get("block_out_channels").forEach(n -> channels.add(n.asInt()));
        assertEquals(channels, c.blockOutChannels());
        assertEquals(json.get("in_channels").asInt(), c.inChannels());
        assertEquals(json.get("out_channels").asInt(), c.outChannels());
        assertEquals(json.get("latent_channels").asInt(), c.latentChannels());
        assertEquals(json.get("layers_per_block").asInt(), c.layersPerBlock());
        assertEquals(json.get("norm_num_groups").asInt(), c.normNumGroups());
        assertEquals(json.path("scaling_factor").asDouble(0.18215), c.scalingFactor());
        assertEquals(json.hasNonNull("shift_factor"), c.shiftFactor().isPresent());
        assertEquals(json.path("mid_block_add_attention").asBoolean(true), c.midBlockAttention());
        assertEquals(c.blockOutChannels(), c.decoder().blockOutChannels());
        assertEquals(c.midBlockAttention(), c.decoder().midBlockAttention());
        try (SafeTensorsFile io = SafeTensorsFile.open(dir.resolve("io.safetensors"))) {
            Shape image = io.info("image").shape();
            Shape latent = io.info("latent").shape();
            assertEquals(image.get(2) / latent.get(2), c.downsampleFactor(), "image / latent size of the io file");
            assertEquals(image.get(3) / latent.get(3), c.downsampleFactor(), "image / latent size of the io file");
        }
    }

    @Test
    void rejectsUnsupportedValuesByName() throws Exception {
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("act_fn", "\"gelu\"");
        bad.put("down_block_types", "[\"DownEncoderBlock2D\", \"AttnDownEncoderBlock2D\"]");
        bad.put("up_block_types", "[\"UpDecoderBlock2D\"]");
        bad.put("latents_mean", "[0.1, 0.2, 0.3, 0.4]");
        bad.put("norm_num_groups", "5");
        bad.put("layers_per_block", "0");
        bad.put("shift_factor", "\"big\"");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            JsonConfig json = goldenConfigWith(e.getKey(), e.getValue());
            ModelFormatException ex = assertThrows(ModelFormatException.class, () -> VaeConfig.from(json), e.getKey());
            assertTrue(ex.getMessage().contains(e.getKey()), e.getKey() + ": " + ex.getMessage());
        }
        assertEquals(0.1159, VaeConfig.from(goldenConfigWith("shift_factor", "0.1159")).shiftFactor().getAsDouble());
    }

    @Test
    void lightDecoderKeepsDiffusersKeyNames(@TempDir Path tmp) {
        VaeConfig full = VaeConfig.read(goldenDir().resolve("config.json"));
        // the narrowest decoder the norms allow: one GroupNorm group's worth of channels at every level
        int groups = full.decoder().normNumGroups();
        VaeDecoderConfig light = full.decoder().withBlockOutChannels(Collections.nCopies(full.decoder().levels(),
                groups)).withLayersPerBlock(1).withMidBlockAttention(false);
        AutoencoderKL small = new AutoencoderKL(full.withDecoder(light));
        AutoencoderKL big = new AutoencoderKL(full);
        for (String key : small.namedParameters().keySet()) {
            if (key.startsWith("decoder.")) {
                assertTrue(big.namedParameters().containsKey(key), "light decoder invented key " + key);
            } else {
                assertEquals(big.namedParameters().get(key).shape(), small.namedParameters().get(key).shape(), key);
            }
        }
        assertFalse(small.namedParameters().keySet().stream().anyMatch(k -> k.contains("decoder.mid_block.attentions")));
        assertTrue(small.decoder().parameterCount() < big.decoder().parameterCount());
        assertTrue(small.namedParameters().containsKey("decoder.up_blocks.0.resnets.1.conv2.weight"));
        assertFalse(small.namedParameters().containsKey("decoder.up_blocks.0.resnets.2.conv2.weight"));
        assertThrows(ModelFormatException.class, () -> full.withDecoder(new VaeDecoderConfig(full.latentChannels() + 1,
                full.outChannels(), light.blockOutChannels(), 1, groups, false)), "latent channels must agree");

        try (NDManager weights = NDManager.newBaseManager(); NDManager scope = weights.newSubManager()) {
            StateDicts.initRandom(small, weights, 7);
            Path file = tmp.resolve("light.safetensors");
            StateDicts.save(small, file, Map.of("format", "pt"));
            AutoencoderKL reloaded = new AutoencoderKL(full.withDecoder(light));
            reloaded.loadWeights(file, weights);
            NDArray latent = scope.randomNormal(new Shape(1, full.latentChannels(), 8, 8));
            NDArray image = small.decode(latent);
            int size = 8 * full.downsampleFactor();
            assertEquals(new Shape(1, full.outChannels(), size, size), image.getShape());
            Golden.assertClose(image, reloaded.decode(latent), 0, "light decoder after save/load");
            assertThrows(StateDictMismatchException.class, () -> big.loadWeights(file, weights));
        }
    }

    /** The sub-pixel decoder decodes to the full image size and its 2x2 output cells are not nearest copies. */
    @Test
    void pixelShuffleDecoderDecodesToTheImageSize(@TempDir Path tmp) {
        VaeConfig full = VaeConfig.read(goldenDir().resolve("config.json"));
        int groups = full.decoder().normNumGroups();
        VaeConfig config = full.withDecoder(full.decoder().withBlockOutChannels(Collections.nCopies(
                full.decoder().levels(), groups)).withLayersPerBlock(0).withMidBlockAttention(false)
                .withUpsampling(VaeDecoderConfig.Upsampling.PIXEL_SHUFFLE));
        AutoencoderKL vae = new AutoencoderKL(config);
        try (NDManager weights = NDManager.newBaseManager(); NDManager scope = weights.newSubManager()) {
            StateDicts.initRandom(vae, weights, 3);
            NDArray latent = scope.randomNormal(new Shape(2, full.latentChannels(), 5, 6));
            NDArray image = vae.decode(latent);
            int f = full.downsampleFactor();
            assertEquals(new Shape(2, full.outChannels(), 5 * f, 6 * f), image.getShape());
            NDArray cell = image.get(":, :, 0::2, 0::2");
            assertTrue(cell.sub(image.get(":, :, 1::2, 1::2")).abs().max().getFloat() > 1e-4,
                    "the four sub-pixels of a 2x2 cell come from different channels");
            Path file = tmp.resolve("shuffle.safetensors");
            StateDicts.save(vae, file, Map.of("format", "pt"));
            AutoencoderKL reloaded = new AutoencoderKL(config);
            reloaded.loadWeights(file, weights);
            Golden.assertClose(image, reloaded.decode(latent), 0, "pixel-shuffle decoder after save/load");
            assertThrows(StateDictMismatchException.class, () -> new AutoencoderKL(full.withDecoder(
                    config.decoder().withUpsampling(VaeDecoderConfig.Upsampling.NEAREST_CONV))).loadWeights(file,
                    weights), "a nearest-upsampling decoder of the same widths does not take these weights");
        }
    }

    @Test
    void loadsPre014AttentionKeyNames(@TempDir Path tmp) {
        Path dir = goldenDir();
        Map<String, String> legacy = Map.of(".to_q.", ".query.", ".to_k.", ".key.", ".to_v.", ".value.",
                ".to_out.0.", ".proj_attn.");
        try (NDManager weights = NDManager.newBaseManager();
                NDManager scope = weights.newSubManager();
                SafeTensorsFile st = SafeTensorsFile.open(dir.resolve("diffusion_pytorch_model.safetensors"));
                SafeTensorsFile golden = SafeTensorsFile.open(dir.resolve("io.safetensors"))) {
            Map<String, NDArray> renamed = new LinkedHashMap<>();
            int changed = 0;
            for (String key : st.tensors().keySet()) {
                String old = key;
                for (Map.Entry<String, String> e : legacy.entrySet()) {
                    old = old.replace(e.getKey(), e.getValue());
                }
                changed += old.equals(key) ? 0 : 1;
                renamed.put(old, st.load(key, weights));
            }
            VaeConfig config = VaeConfig.read(dir.resolve("config.json"));
            int blocks = (config.midBlockAttention() ? 1 : 0) + (config.decoder().midBlockAttention() ? 1 : 0);
            Assumptions.assumeTrue(blocks > 0, "the golden VAE has no attention block");
            assertEquals(8 * blocks, changed, "weight and bias of four projections in each mid-block attention");
            Path file = tmp.resolve("legacy.safetensors");
            SafeTensorsWriter.write(file, renamed, Map.of("format", "pt"));
            AutoencoderKL modern = AutoencoderKL.load(dir, weights);
            AutoencoderKL old = new AutoencoderKL(modern.config());
            old.loadWeights(file, weights);
            NDArray latent = golden.load("latent", scope);
            Golden.assertClose(modern.decode(latent), old.decode(latent), 0, "decode with legacy key names");
        }
    }

    @Test
    void posteriorSamplingAndScopes() {
        try (NDManager weights = NDManager.newBaseManager()) {
            AutoencoderKL vae = AutoencoderKL.load(goldenDir(), weights);
            NDArray first;
            try (NDManager scope = weights.newSubManager();
                    SafeTensorsFile golden = SafeTensorsFile.open(goldenDir().resolve("io.safetensors"))) {
                LatentDistribution post = vae.encode(golden.load("image", scope));
                NDArray noise = scope.randomNormal(post.mean().getShape());
                float[] mean = post.mean().toFloatArray();
                float[] logvar = post.logvar().toFloatArray();
                float[] eps = noise.toFloatArray();
                float[] expected = new float[mean.length];
                for (int i = 0; i < mean.length; i++) {
                    expected[i] = (float) (mean[i] + Math.exp(0.5 * logvar[i]) * eps[i]);
                }
                Golden.assertClose(scope.create(expected, post.mean().getShape()), post.sample(noise), 1e-6,
                        "mean + std * noise");
                Shape wrong = post.mean().getShape().slice(0, 3).add(post.mean().getShape().get(3) + 1);
                assertThrows(IllegalArgumentException.class, () -> post.sample(scope.zeros(wrong)));
                first = vae.decode(post.mode()).toDevice(weights.getDevice(), true);
                first.attach(weights);
            }
            try (NDManager scope = weights.newSubManager();
                    SafeTensorsFile golden = SafeTensorsFile.open(goldenDir().resolve("io.safetensors"))) {
                NDArray again = vae.decode(vae.encode(golden.load("image", scope)).mode());
                Golden.assertClose(first, again, 0, "same result after the first scope was closed");
            }
        }
    }
}
