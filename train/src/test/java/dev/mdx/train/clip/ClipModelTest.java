package dev.mdx.train.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.text.ClipTextModel;
import dev.mdx.train.eval.EvalFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keys, shapes, save/load and the text-encoder export of the CLIP model. */
class ClipModelTest {
    @TempDir
    Path tmp;

    /** Whole-tensor max abs error, printed. */
    static void assertClose(NDArray expected, NDArray actual, double atol, String what) {
        assertEquals(expected.getShape(), actual.getShape(), what);
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        double max = 0;
        for (int i = 0; i < e.length; i++) {
            max = Math.max(max, Math.abs(e[i] - a[i]));
        }
        System.out.printf("%s: max abs error %.3g (atol %.2g, %d elements)%n", what, max, atol, e.length);
        assertTrue(max <= atol, what + ": max abs error " + max + " > " + atol);
    }

    private static NDArray ids(NDManager m) {
        return m.create(new long[] {528, 5, 6, 529, 529, 528, 7, 8, 9, 529}, new Shape(2, 5));
    }

    @Test
    void keysFollowTransformersClipModel() {
        ClipModel model = new ClipModel(ColouredSquares.config(530));
        Set<String> keys = new TreeSet<>(model.namedParameters().keySet());
        for (String k : List.of("logit_scale", "text_projection.weight", "visual_projection.weight",
                "text_model.embeddings.token_embedding.weight", "text_model.final_layer_norm.bias",
                "text_model.encoder.layers.1.mlp.fc2.weight", "vision_model.embeddings.class_embedding",
                "vision_model.embeddings.patch_embedding.weight", "vision_model.embeddings.position_embedding.weight",
                "vision_model.pre_layrnorm.weight", "vision_model.post_layernorm.bias",
                "vision_model.encoder.layers.1.self_attn.q_proj.bias")) {
            assertTrue(keys.contains(k), k + " missing from " + keys);
        }
        assertTrue(keys.stream().allMatch(k -> k.equals("logit_scale") || k.startsWith("text_model.")
                || k.startsWith("vision_model.") || k.endsWith("_projection.weight")), keys.toString());
        assertEquals(new Shape(32, 3, 4, 4), model.namedParameters().get("vision_model.embeddings.patch_embedding.weight").shape());
        assertEquals(new Shape(17, 32), model.namedParameters().get("vision_model.embeddings.position_embedding.weight").shape());
        assertEquals(new Shape(), model.namedParameters().get("logit_scale").shape());
        // the text tower shares its parameters: its keys are exactly the text_model.* keys here
        Set<String> textKeys = new TreeSet<>(model.textModel().namedParameters().keySet());
        assertEquals(textKeys, new TreeSet<>(keys.stream().filter(k -> k.startsWith("text_model.")).toList()));
        model.textModel().namedParameters().forEach((k, p) -> assertTrue(p == model.namedParameters().get(k), k));
    }

    @Test
    void saveLoadAndTextEncoderExportGiveTheSameOutputs() {
        try (NDManager weights = NDManager.newBaseManager(); NDManager scope = weights.newSubManager()) {
            ClipModel model = new ClipModel(ColouredSquares.config(530));
            model.initRandom(weights, 5);
            Path clipDir = tmp.resolve("clip");
            Path textDir = tmp.resolve("text_encoder");
            model.save(clipDir);
            model.saveTextEncoder(textDir);

            ClipModel loaded = ClipModel.load(clipDir, weights);
            assertEquals(model.config(), loaded.config());
            NDArray images = ColouredSquares.images(scope, new int[] {0, 3}, new int[] {1, 2}, new int[] {4, 0});
            assertClose(model.imageEmbeds(images), loaded.imageEmbeds(images), 0, "image embeds after load");
            assertClose(model.textEmbeds(ids(scope)), loaded.textEmbeds(ids(scope)), 0, "text embeds after load");
            assertEquals(model.logitScaleValue(), loaded.logitScaleValue());
            assertEquals(Math.exp(ClipModelConfig.DEFAULT_LOGIT_SCALE_INIT), model.logitScaleValue(), 1e-5);

            // the diffusers text_encoder/ folder loads with the inference text model and pools the same features
            ClipTextModel text = ClipTextModel.load(textDir, weights);
            assertEquals(model.config().text(), text.config());
            assertClose(model.textModel().forward(ids(scope)).pooledOutput(),
                    text.forward(ids(scope)).pooledOutput(), 0, "text encoder export pooled output");
            try (SafeTensorsFile st = SafeTensorsFile.open(textDir.resolve("model.safetensors"))) {
                assertTrue(st.tensors().keySet().stream().allMatch(k -> k.startsWith("text_model.")));
                assertEquals(model.textModel().namedParameters().size(), st.tensors().size());
            }
            JsonConfig cfg = JsonConfig.read(textDir.resolve("config.json"));
            assertEquals("CLIPTextModel", cfg.root().get("architectures").get(0).asText());
            assertEquals(529, cfg.requireInt("eos_token_id"));
            assertEquals("clip", JsonConfig.read(clipDir.resolve("config.json")).getString("model_type", null));
        }
    }

    @Test
    void embeddingsHaveTheProjectionWidthAndPoolAtTheFirstEndOfText() {
        try (NDManager weights = NDManager.newBaseManager(); NDManager scope = weights.newSubManager()) {
            ClipModel model = new ClipModel(ColouredSquares.config(530));
            model.initRandom(weights, 6);
            NDArray images = ColouredSquares.images(scope, new int[] {1, 2, 5}, new int[3], new int[3]);
            assertEquals(new Shape(3, 32), model.imageEmbeds(images).getShape());
            assertEquals(new Shape(3, 32), model.imageFeatures(images).getShape());
            assertEquals(new Shape(2, 32), model.textEmbeds(ids(scope)).getShape());
            // padding after the end-of-text token does not change the text embedding
            NDArray shortIds = scope.create(new long[] {528, 5, 6, 529}, new Shape(1, 4));
            NDArray padded = scope.create(new long[] {528, 5, 6, 529, 529, 529, 529}, new Shape(1, 7));
            assertClose(model.textEmbeds(shortIds), model.textEmbeds(padded), 1e-6, "padding after EOS");
            assertThrows(IllegalArgumentException.class,
                    () -> model.imageEmbeds(scope.zeros(new Shape(1, 3, 8, 8))));
        }
    }

    @Test
    void featureFrechetDistanceSeparatesImageSets() {
        try (NDManager weights = NDManager.newBaseManager()) {
            ClipModel model = new ClipModel(ColouredSquares.config(530));
            model.initRandom(weights, 8);
            ClipScorer scorer = new ClipScorer(model, null, weights, 16);
            // 64 images each: all colours at many places, and only red and green squares at the same places
            ClipScorer.Images all = (scope, from, to) -> squares(scope, from, to, 8);
            ClipScorer.Images twoColours = (scope, from, to) -> squares(scope, from, to, 2);
            double same = scorer.frechetDistance(all, 64, all, 64);
            double differ = scorer.frechetDistance(all, 64, twoColours, 64);
            double reverse = scorer.frechetDistance(twoColours, 64, all, 64);
            System.out.printf("feature FID: same set %.3e, different sets %.4f (reversed %.4f)%n", same, differ,
                    reverse);
            assertEquals(0, same, 1e-6);
            assertTrue(differ > 0.1, "FID " + differ);
            assertEquals(differ, reverse, 1e-6 * differ);
        }
    }

    private static NDArray squares(NDManager scope, int from, int to, int colours) {
        int n = to - from;
        int[] c = new int[n];
        int[] ys = new int[n];
        int[] xs = new int[n];
        for (int i = 0; i < n; i++) {
            int k = from + i;
            c[i] = k % colours;
            ys[i] = (k * 7) % 11;
            xs[i] = (k * 3) % 11;
        }
        return ColouredSquares.images(scope, c, ys, xs);
    }

    @Test
    void configRoundTripAndValidation() {
        ClipModelConfig c = ColouredSquares.config(530);
        assertEquals(c, ClipModelConfig.from(new JsonConfig("test", c.toJsonNode())));
        assertThrows(ModelFormatException.class, () -> new ClipVisionConfig(16, 5, 3, 32, 64, 2, 2,
                dev.mdx.text.ClipActivation.GELU, 1e-5));
        assertThrows(ModelFormatException.class, () -> new ClipModelConfig(c.text(), c.vision(), 16, 2.6));
    }

    /** A CLIP folder whose tokenizer reads longer captions than its text tower holds is refused when loaded. */
    @Test
    void aScorerRefusesATokenizerLongerThanItsTextTower() throws Exception {
        Path clip = EvalFixtures.clip(tmp.resolve("clip"), 1);
        try (NDManager m = NDManager.newBaseManager()) {
            ClipScorer.load(clip, m, 4);
            Path config = clip.resolve("tokenizer_config.json");
            Files.writeString(config, Files.readString(config).replaceAll("\"model_max_length\" ?: ?16",
                    "\"model_max_length\": 32"));
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> ClipScorer.load(clip, m, 4));
            assertTrue(e.getMessage().contains("model_max_length 32 exceeds the text tower's max_position_embeddings 16"),
                    e.getMessage());
        }
    }
}
