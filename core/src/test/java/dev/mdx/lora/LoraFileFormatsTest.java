package dev.mdx.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file formats users bring, read from headers into layers and matched to a model: kohya, diffusers (and its
 * attention-processor names), PEFT; every tensor that matches nothing listed; pickles refused.
 */
class LoraFileFormatsTest {
    private static final String UNET = "{\"_class_name\": \"UNet2DConditionModel\", \"sample_size\": 8,"
            + " \"in_channels\": 4, \"out_channels\": 4, \"down_block_types\": [\"CrossAttnDownBlock2D\"],"
            + " \"up_block_types\": [\"CrossAttnUpBlock2D\"], \"block_out_channels\": [8], \"layers_per_block\": 1,"
            + " \"norm_num_groups\": 4, \"cross_attention_dim\": 16, \"attention_head_dim\": 2}";
    private static final String TEXT = "{\"architectures\": [\"CLIPTextModel\"], \"vocab_size\": 100,"
            + " \"hidden_size\": 16, \"intermediate_size\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
            + " \"max_position_embeddings\": 16, \"hidden_act\": \"quick_gelu\"}";
    private static final String Q = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q";
    private static final String OUT = "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_out.0";
    private static final String TE_Q = "text_model.encoder.layers.0.self_attn.q_proj";
    private static final String TE_OUT = "text_model.encoder.layers.0.self_attn.out_proj";

    private static NDManager manager;
    private static Map<LoraPart, LoraTargets> targets;

    @TempDir
    Path tmp;

    @BeforeAll
    static void build() {
        manager = NDManager.newBaseManager();
        targets = LoraTargets.of(UNet2DConditionModel.fromConfig(UNetConfig.parse("unet", UNET)),
                new ClipTextModel(ClipTextConfig.from(JsonConfig.parse("text", TEXT))));
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private NDArray zeros(long... shape) {
        return manager.zeros(new Shape(shape));
    }

    private Path write(String name, Map<String, NDArray> tensors) {
        Path file = tmp.resolve(name);
        SafeTensorsWriter.write(file, tensors, Map.of());
        return file;
    }

    private static BoundLora bind(Path file) {
        return BoundLora.bind(LoraFile.read(file), targets);
    }

    @Test
    void peftNamesWithTheAdapterConfigsAlpha() throws Exception {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("unet." + Q + ".lora_A.weight", zeros(2, 8));
        t.put("unet." + Q + ".lora_B.weight", zeros(8, 2));
        t.put("base_model.model." + TE_Q + ".lora_A.weight", zeros(2, 16));
        t.put("base_model.model." + TE_Q + ".lora_B.weight", zeros(16, 2));
        Path file = write("adapter_model.safetensors", t);
        Files.writeString(tmp.resolve("adapter_config.json"), "{\"r\": 2, \"lora_alpha\": 1}");
        BoundLora b = bind(file);
        assertTrue(b.complete(), () -> b.describeProblems(""));
        assertEquals(List.of(LoraPart.UNET, LoraPart.TEXT_ENCODER),
                b.deltas().stream().map(BoundLora.Delta::part).toList());
        assertEquals(Q + ".weight", b.deltas().get(0).weightKey());
        assertEquals(1f, b.deltas().get(0).alpha(), "lora_alpha of adapter_config.json");
        assertTrue(b.summary().contains("PEFT"), b.summary());
    }

    @Test
    void diffusersNamesOldAndNew() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        // diffusers 0.2x save_lora_weights
        t.put("unet." + Q + ".lora.down.weight", zeros(4, 8));
        t.put("unet." + Q + ".lora.up.weight", zeros(8, 4));
        t.put("text_encoder." + TE_Q + ".lora_linear_layer.down.weight", zeros(2, 16));
        t.put("text_encoder." + TE_Q + ".lora_linear_layer.up.weight", zeros(16, 2));
        // attention-processor names (train_text_to_image_lora before 0.17; the text encoder's to_out_lora)
        t.put("down_blocks.0.attentions.0.transformer_blocks.0.attn2.processor.to_out_lora.down.weight", zeros(4, 8));
        t.put("down_blocks.0.attentions.0.transformer_blocks.0.attn2.processor.to_out_lora.up.weight", zeros(8, 4));
        t.put("text_encoder.text_model.encoder.layers.0.self_attn.to_out_lora.down.weight", zeros(2, 16));
        t.put("text_encoder.text_model.encoder.layers.0.self_attn.to_out_lora.up.weight", zeros(16, 2));
        BoundLora b = bind(write("pytorch_lora_weights.safetensors", t));
        assertTrue(b.complete(), () -> b.describeProblems(""));
        assertEquals(List.of(Q + ".weight", TE_Q + ".weight", OUT + ".weight", TE_OUT + ".weight"),
                b.deltas().stream().map(BoundLora.Delta::weightKey).toList());
        assertTrue(b.deltas().stream().allMatch(d -> d.alpha() == null), "no alpha: factor 1");
        assertEquals("8 of 8 tensors applied (2 UNet and 2 text encoder layers, diffusers)", b.summary());
    }

    @Test
    void kohyaNamesIncludeLayersDiffusersCannotMap() {
        // conv_in and time_embedding.linear_1 are LoRA-able in mdx (diffusers 0.25's converter cannot name them)
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("lora_unet_conv_in.lora_down.weight", zeros(2, 4, 3, 3));
        t.put("lora_unet_conv_in.lora_up.weight", zeros(8, 2, 1, 1));
        t.put("lora_unet_conv_in.alpha", manager.create(1f).reshape(new Shape()));
        t.put("lora_unet_time_embedding_linear_1.lora_down.weight", zeros(2, 8));
        t.put("lora_unet_time_embedding_linear_1.lora_up.weight", zeros(32, 2));
        t.put("lora_unet_time_embedding_linear_1.alpha", manager.create(0f).reshape(new Shape()));
        BoundLora b = bind(write("k.safetensors", t));
        assertTrue(b.complete(), () -> b.describeProblems(""));
        assertEquals(1f, b.deltas().get(0).alpha());
        assertNull(b.deltas().get(1).alpha(), "kohya reads alpha 0 as alpha = rank");
    }

    @Test
    void everyTensorThatMatchesNothingIsListed() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("lora_unet_" + LoraTargets.kohyaName(Q) + ".lora_down.weight", zeros(4, 8));
        t.put("lora_unet_" + LoraTargets.kohyaName(Q) + ".lora_up.weight", zeros(8, 4));
        t.put("lora_unet_no_such_layer.lora_down.weight", zeros(4, 8));
        t.put("lora_unet_no_such_layer.lora_up.weight", zeros(8, 4));
        t.put("lora_unet_" + LoraTargets.kohyaName(OUT) + ".lora_down.weight", zeros(4, 9));
        t.put("lora_unet_" + LoraTargets.kohyaName(OUT) + ".lora_up.weight", zeros(8, 4));
        t.put("lora_unet_" + LoraTargets.kohyaName(OUT) + ".alpha", manager.create(4f).reshape(new Shape()));
        t.put("lora_unet_conv_out.hada_w1_a", zeros(4, 4));
        t.put("lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", zeros(4, 16));
        t.put("lora_unet_" + LoraTargets.kohyaName(Q).replace("to_q", "to_k") + ".lora_down.weight", zeros(4, 8));
        BoundLora b = bind(write("k.safetensors", t));
        assertFalse(b.complete());
        assertEquals(2, b.appliedTensors());
        assertEquals(8, b.unmatchedTensors());
        String message = b.describeProblems("hint");
        for (String key : t.keySet()) {
            String layer = key.substring(0, key.indexOf('.'));
            if (!key.contains(LoraTargets.kohyaName(Q) + ".")) {
                assertTrue(message.contains(layer), key + " not listed:\n" + message);
            }
        }
        assertTrue(message.contains("lora_unet_no_such_layer.{lora_down.weight, lora_up.weight}: no layer"), message);
        assertTrue(message.contains("no layer 'no_such_layer' in the UNet"), message);
        assertTrue(message.contains("do not fit " + OUT + " (8, 8)"), message);
        assertTrue(message.contains("LyCORIS"), message);
        assertTrue(message.contains("SDXL"), message);
        assertTrue(message.contains("has no up weight"), message);
        assertTrue(message.endsWith("\n  hint"), message);
    }

    @Test
    void picklesAndOtherFilesAreRefusedClearly() throws Exception {
        Path ckpt = Files.write(tmp.resolve("style.ckpt"), new byte[] {1, 2, 3});
        LoraException e = assertThrows(LoraException.class, () -> LoraFile.read(ckpt));
        assertTrue(e.getMessage().contains("pickled PyTorch file") && e.getMessage().contains("style.ckpt"),
                e.getMessage());
        Path zip = Files.write(tmp.resolve("renamed.safetensors"), new byte[] {'P', 'K', 3, 4, 0, 0, 0, 0, 0});
        e = assertThrows(LoraException.class, () -> LoraFile.read(zip));
        assertTrue(e.getMessage().contains("pickled PyTorch file"), e.getMessage());
        e = assertThrows(LoraException.class, () -> LoraFile.read(tmp.resolve("missing.safetensors")));
        assertTrue(e.getMessage().endsWith("missing.safetensors: no such file"), e.getMessage());
        Path weights = write("unet.safetensors", Map.of("conv_in.weight", zeros(8, 4, 3, 3)));
        e = assertThrows(LoraException.class, () -> LoraFile.read(weights));
        assertTrue(e.getMessage().contains("none of its 1 tensors is a LoRA layer")
                && e.getMessage().contains("conv_in.weight"), e.getMessage());
    }

    @Test
    void specsAndPromptTags() {
        assertEquals(new LoraSpec(Path.of("a.safetensors"), 1.0), LoraSpec.parse("a.safetensors"));
        assertEquals(new LoraSpec(Path.of("dir/a.safetensors"), -0.5), LoraSpec.parse("dir/a.safetensors:-0.5"));
        assertEquals(new LoraSpec(Path.of("C:\\x\\a.safetensors"), 1.0), LoraSpec.parse("C:\\x\\a.safetensors"));
        assertThrows(IllegalArgumentException.class, () -> LoraSpec.parse("a.safetensors:strong"));
        assertThrows(IllegalArgumentException.class, () -> LoraSpec.parse("a.safetensors:NaN"));
        assertThrows(IllegalArgumentException.class, () -> LoraSpec.parse(":0.5"));

        PromptLoras.Extraction x = PromptLoras.extract("a red apple <lora:outline:0.8>, <LORA:sub/b>");
        assertEquals("a red apple , ", x.prompt());
        assertEquals(List.of(new PromptLoras.Tag("<lora:outline:0.8>", "outline", 0.8),
                new PromptLoras.Tag("<LORA:sub/b>", "sub/b", 1.0)), x.tags());
        assertEquals("no tags", PromptLoras.extract("no tags").prompt());
        assertThrows(IllegalArgumentException.class, () -> PromptLoras.extract("<lora::1>"));
        assertThrows(IllegalArgumentException.class, () -> PromptLoras.extract("<lora:a:x>"));
        assertThrows(IllegalArgumentException.class, () -> PromptLoras.extract("<lora:a:0.5:1>"));
    }

    @Test
    void tagNamesResolveInsideTheLoraFolder() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("loras/sub"));
        Files.writeString(dir.resolve("b.safetensors"), "");
        Files.writeString(tmp.resolve("loras/old.ckpt"), "");
        assertEquals(dir.resolve("b.safetensors"), PromptLoras.resolve(tmp.resolve("loras"), "sub/b"));
        assertEquals(tmp.resolve("loras/old.ckpt"), PromptLoras.resolve(tmp.resolve("loras"), "old"),
                "found, to be refused by LoraFile with the pickle message");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PromptLoras.resolve(tmp.resolve("loras"), "c"));
        assertTrue(e.getMessage().contains("no LoRA 'c' in"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PromptLoras.resolve(tmp.resolve("loras"), "../x"));
    }
}
