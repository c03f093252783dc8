package dev.mdx.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import org.junit.jupiter.api.Assumptions;
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
        Assumptions.assumeTrue(full.numHiddenLayers() > skip, "clip_skip needs a text encoder of two layers or more");
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

    /** Both of transformers' rules, whichever the golden config uses: its eos_token_id 2 (legacy) or another. */
    @Test
    void poolingRules() {
        ClipTextConfig golden = ClipTextConfig.read(goldenDir().resolve("config.json"));
        ClipTextConfig legacy = withSpecialTokens(golden, 0, 2, 1);
        ClipTextConfig modern = withSpecialTokens(golden, 49406, 49407, 49407);
        assertTrue(legacy.legacyPooling());
        assertFalse(modern.legacyPooling());
        int length = 6;
        long[] ids = {49406, 5, 49407, 49407, 9, 9, 49406, 3, 4, 5, 6, 7, 7, 49407, 2, 49408, 49408, 1};
        assertArrayEquals(new long[] {2, 0, 1}, new ClipTextModel(modern).pooledIndex(ids, 3, length),
                "first eos position, 0 when there is none");
        assertArrayEquals(new long[] {2, 0, 3}, new ClipTextModel(legacy).pooledIndex(ids, 3, length),
                "first position of the largest id");
    }

    private static ClipTextConfig withSpecialTokens(ClipTextConfig c, int bos, int eos, int pad) {
        return new ClipTextConfig(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(),
                c.numAttentionHeads(), c.maxPositionEmbeddings(), c.hiddenAct(), c.layerNormEps(), bos, eos, pad,
                c.projectionDim());
    }

    @Test
    void paddingMaskOnlyChangesPaddedPositions() {
        Path dir = goldenDir();
        try (NDManager weights = NDManager.newBaseManager(); NDManager scope = weights.newSubManager()) {
            ClipTextModel model = ClipTextModel.load(dir, weights);
            ClipTextConfig c = model.config();
            int length = c.maxPositionEmbeddings();
            int real = Math.min(7, length - 1);
            // start token, words (any ids the vocabulary has), end token, then the config's padding
            long[] ids = ids(1, length, c.padTokenId());
            ids[0] = c.bosTokenId();
            for (int i = 1; i < real - 1; i++) {
                ids[i] = (320L + 811 * i) % c.vocabSize();
            }
            ids[real - 1] = c.eosTokenId();
            long[] mask = new long[length];
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
            int positions = ClipTextConfig.read(dir.resolve("config.json")).maxPositionEmbeddings();
            tensors.put(ClipTextModel.POSITION_IDS_KEY, manager.arange(0, positions, 1,
                    ai.djl.ndarray.types.DataType.INT64).reshape(1, positions));
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
