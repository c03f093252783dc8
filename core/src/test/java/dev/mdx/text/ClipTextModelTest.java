package dev.mdx.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.io.StateDicts;
import dev.mdx.testing.Golden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Behaviour of the text model beyond the golden outputs: clip_skip, pooling rules, padding mask, loading. */
class ClipTextModelTest {
    private static final double ATOL = 1e-5;

    private static Path goldenDir() {
        return Golden.componentDirs("CLIPTextModel").get(0);
    }

    private static long[] ids(int batch, int length, long fill) {
        long[] ids = new long[batch * length];
        java.util.Arrays.fill(ids, fill);
        return ids;
    }

    @Test
    void clipSkipEqualsAShallowerModelsOutput() {
        Path dir = goldenDir();
        ClipTextConfig full = ClipTextConfig.read(dir.resolve("config.json"));
        int skip = 1;
        int kept = full.numHiddenLayers() - skip;
        ClipTextConfig shallow = new ClipTextConfig(full.vocabSize(), full.hiddenSize(), full.intermediateSize(),
                kept, full.numAttentionHeads(), full.maxPositionEmbeddings(), full.hiddenAct(),
                full.layerNormEps(), full.bosTokenId(), full.eosTokenId(), full.padTokenId(), full.projectionDim());
        try (NDManager weights = NDManager.newBaseManager();
                NDManager scope = weights.newSubManager();
                SafeTensorsFile golden = SafeTensorsFile.open(dir.resolve("io.safetensors"));
                SafeTensorsFile st = SafeTensorsFile.open(dir.resolve("model.safetensors"))) {
            ClipTextModel model = ClipTextModel.load(dir, weights);
            ClipTextModel truncated = new ClipTextModel(shallow);
            String dropped = "text_model.encoder.layers." + kept + ".";
            StateDicts.load(truncated, st, weights, k -> k.startsWith(dropped) ? null : k);

            NDArray ids = golden.load("input_ids", scope);
            NDArray skipped = model.conditioning(model.forward(ids), skip);
            Golden.assertClose(truncated.forward(ids).lastHiddenState(), skipped, ATOL, "clip_skip 1");
            assertThrows(IllegalArgumentException.class, () -> model.conditioning(model.forward(ids), kept + 1));
        }
    }

    @Test
    void poolingRules() {
        ClipTextConfig legacy = ClipTextConfig.read(goldenDir().resolve("config.json"));
        assertTrue(legacy.legacyPooling());
        ClipTextConfig modern = new ClipTextConfig(legacy.vocabSize(), legacy.hiddenSize(),
                legacy.intermediateSize(), legacy.numHiddenLayers(), legacy.numAttentionHeads(),
                legacy.maxPositionEmbeddings(), legacy.hiddenAct(), legacy.layerNormEps(), 49406, 49407, 49407,
                legacy.projectionDim());
        int length = 6;
        long[] ids = {49406, 5, 49407, 49407, 9, 9, 49406, 3, 4, 5, 6, 7, 7, 49407, 2, 49408, 49408, 1};
        assertArrayEquals(new long[] {2, 0, 1}, new ClipTextModel(modern).pooledIndex(ids, 3, length),
                "first eos position, 0 when there is none");
        assertArrayEquals(new long[] {2, 0, 3}, new ClipTextModel(legacy).pooledIndex(ids, 3, length),
                "first position of the largest id");
    }

    @Test
    void paddingMaskOnlyChangesPaddedPositions() {
        Path dir = goldenDir();
        try (NDManager weights = NDManager.newBaseManager(); NDManager scope = weights.newSubManager()) {
            ClipTextModel model = ClipTextModel.load(dir, weights);
            int length = 77;
            int real = 7;
            long[] ids = ids(1, length, 49407);
            long[] mask = new long[length];
            long[] prompt = {49406, 320, 1125, 539, 320, 2368, 49407};
            System.arraycopy(prompt, 0, ids, 0, real);
            java.util.Arrays.fill(mask, 0, real, 1);
            NDArray idArray = scope.create(ids, new Shape(1, length));
            NDArray plain = model.forward(idArray).lastHiddenState();
            NDArray masked = model.forward(idArray, scope.create(mask, new Shape(1, length))).lastHiddenState();
            NDIndex head = new NDIndex(":, :{}", real);
            NDIndex tail = new NDIndex(":, {}:", real);
            Golden.assertClose(plain.get(head), masked.get(head), 0, "positions before the padding");
            double tailDiff = plain.get(tail).sub(masked.get(tail)).abs().max().getFloat();
            assertTrue(tailDiff > 1e-3, "padding positions should attend differently, diff " + tailDiff);
        }
    }

    @Test
    void acceptsAndIgnoresSavedPositionIds(@TempDir Path tmp) throws Exception {
        Path dir = goldenDir();
        Path copy = Files.createDirectories(tmp.resolve("text_encoder"));
        Files.copy(dir.resolve("config.json"), copy.resolve("config.json"));
        try (NDManager manager = NDManager.newBaseManager();
                SafeTensorsFile st = SafeTensorsFile.open(dir.resolve("model.safetensors"))) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            for (String k : st.tensors().keySet()) {
                tensors.put(k, st.load(k, manager));
            }
            tensors.put(ClipTextModel.POSITION_IDS_KEY, manager.arange(0, 77, 1, ai.djl.ndarray.types.DataType.INT64)
                    .reshape(1, 77));
            SafeTensorsWriter.write(copy.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
            ClipTextModel model = ClipTextModel.load(copy, manager);
            assertEquals(ClipTextModel.load(dir, manager).parameterCount(), model.parameterCount());
        }
    }

    @Test
    void rejectsUnsupportedConfigValues() {
        String base = "{\"vocab_size\": 10, \"hidden_size\": 8, \"intermediate_size\": 16, \"num_hidden_layers\": 1,"
                + " \"num_attention_heads\": 2, \"max_position_embeddings\": 4, \"hidden_act\": \"%s\"}";
        ClipTextConfig ok = ClipTextConfig.from(JsonConfig.parse("ok", String.format(base, "gelu")));
        assertEquals(ClipActivation.GELU, ok.hiddenAct());
        assertEquals(49407, ok.eosTokenId());
        ModelFormatException act = assertThrows(ModelFormatException.class,
                () -> ClipTextConfig.from(JsonConfig.parse("c.json", String.format(base, "relu"))));
        assertTrue(act.getMessage().contains("hidden_act"), act.getMessage());
        ModelFormatException heads = assertThrows(ModelFormatException.class, () -> ClipTextConfig.from(
                JsonConfig.parse("c.json", String.format(base, "gelu").replace("\"num_attention_heads\": 2",
                        "\"num_attention_heads\": 3"))));
        assertTrue(heads.getMessage().contains("num_attention_heads"), heads.getMessage());
        ModelFormatException missing = assertThrows(ModelFormatException.class, () -> ClipTextConfig.from(
                JsonConfig.parse("c.json", "{\"vocab_size\": 10}")));
        assertTrue(missing.getMessage().contains("hidden_size"), missing.getMessage());
        // one position holds no start and end token: the tokenizer would fail on every prompt
        ModelFormatException positions = assertThrows(ModelFormatException.class, () -> ClipTextConfig.from(
                JsonConfig.parse("c.json", String.format(base, "gelu").replace("\"max_position_embeddings\": 4",
                        "\"max_position_embeddings\": 1"))));
        assertTrue(positions.getMessage().startsWith("c.json: ") && positions.getMessage().contains(
                "max_position_embeddings"), positions.getMessage());
    }
}
