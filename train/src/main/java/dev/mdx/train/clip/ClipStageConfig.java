package dev.mdx.train.clip;

import dev.mdx.io.JsonConfig;
import dev.mdx.text.ClipActivation;
import dev.mdx.text.ClipTextConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

/**
 * The contrastive stage's settings: the {@code "data"}, {@code "tokenizer"} and {@code "model"} objects of a
 * training config file (the {@code "trainer"} object is {@link dev.mdx.train.TrainingConfig}'s). Unknown keys are
 * errors, so a typo never falls back to a default.
 *
 * <pre>
 * "data": {"dataset": "/work/data-cache/emoji", "caption_variants": true, "filler_words": 0, "eval_images": 512},
 * "tokenizer": {"vocab_size": 4096, "min_frequency": 2, "model_max_length": 77},
 * "model": {"projection_dim": 256, "logit_scale_init_value": 2.6592,
 *           "text": {"hidden_size": 256, "intermediate_size": 1024, "num_hidden_layers": 4,
 *                    "num_attention_heads": 4, "max_position_embeddings": 77, "hidden_act": "quick_gelu"},
 *           "vision": {"patch_size": 8, "hidden_size": 256, "intermediate_size": 1024, "num_hidden_layers": 4,
 *                      "num_attention_heads": 4, "hidden_act": "quick_gelu"}}
 * </pre>
 *
 * @param dataset folder of a cached image data set (its train split trains, its test split evaluates)
 * @param captionVariants train on every caption variant of an item (else the canonical caption only)
 * @param fillerWords probability that a training caption gets one made-up word ({@link FillerWords}); 0 turns it off
 * @param evalImages images of each split scored by the periodic evaluation (0 turns it off)
 * @param vocabSize target BPE vocabulary size, special tokens included
 * @param minFrequency fewest occurrences of a pair to be merged
 * @param modelMaxLength tokenizer sequence length (BOS and EOS included)
 * @param model the model section, completed by {@link #modelConfig} once the data and tokenizer are known
 */
public record ClipStageConfig(Path dataset, boolean captionVariants, double fillerWords, int evalImages, int vocabSize,
        int minFrequency, int modelMaxLength, JsonConfig model) {
    private static final Set<String> DATA_KEYS = Set.of("dataset", "caption_variants", "filler_words",
            "eval_images");
    private static final Set<String> TOKENIZER_KEYS = Set.of("vocab_size", "min_frequency", "model_max_length");
    private static final Set<String> MODEL_KEYS = Set.of("projection_dim", "logit_scale_init_value", "text",
            "vision");
    private static final Set<String> TEXT_KEYS = Set.of("hidden_size", "intermediate_size", "num_hidden_layers",
            "num_attention_heads", "max_position_embeddings", "hidden_act", "layer_norm_eps");
    private static final Set<String> VISION_KEYS = Set.of("patch_size", "hidden_size", "intermediate_size",
            "num_hidden_layers", "num_attention_heads", "hidden_act", "layer_norm_eps");

    public static ClipStageConfig read(Path file) {
        return from(JsonConfig.read(file));
    }

    public static ClipStageConfig from(JsonConfig doc) {
        JsonConfig data = section(doc, "data", DATA_KEYS);
        JsonConfig tok = section(doc, "tokenizer", TOKENIZER_KEYS);
        JsonConfig model = section(doc, "model", MODEL_KEYS);
        section(model, "text", TEXT_KEYS);
        section(model, "vision", VISION_KEYS);
        String dataset = data.getString("dataset", null);
        if (dataset == null) {
            throw data.error("dataset", "is missing (the folder of a built image data set)");
        }
        int evalImages = data.getInt("eval_images", 512);
        if (evalImages < 0) {
            throw data.error("eval_images", "must be >= 0, got " + evalImages);
        }
        double fillerWords = data.getDouble("filler_words", 0);
        if (!(fillerWords >= 0 && fillerWords <= 1)) {
            throw data.error("filler_words", "must be a probability in [0, 1], got " + fillerWords);
        }
        int maxLength = tok.getInt("model_max_length", 77);
        if (maxLength < 2) {
            throw tok.error("model_max_length", "must be at least 2 (BOS and EOS), got " + maxLength);
        }
        int vocabSize = tok.getInt("vocab_size", 4096);
        if (vocabSize < BpeTrainer.MIN_VOCAB_SIZE) {
            throw tok.error("vocab_size", "must be at least " + BpeTrainer.MIN_VOCAB_SIZE + ", got " + vocabSize);
        }
        int minFrequency = tok.getInt("min_frequency", 2);
        if (minFrequency < 1) {
            throw tok.error("min_frequency", "must be at least 1, got " + minFrequency);
        }
        return new ClipStageConfig(Path.of(dataset), data.getBool("caption_variants", true), fillerWords, evalImages,
                vocabSize, minFrequency, maxLength, model);
    }

    /**
     * The model config for a tokenizer of {@code vocabSize} tokens (BOS and EOS its last two ids, EOS also
     * padding) and square images of {@code imageSize} with {@code channels} channels.
     */
    public ClipModelConfig modelConfig(int tokenizerVocabSize, int imageSize, int channels) {
        int projection = positive(model, "projection_dim", null);
        JsonConfig text = new JsonConfig(model.source() + ".text", model.root().get("text"));
        JsonConfig vision = new JsonConfig(model.source() + ".vision", model.root().get("vision"));
        int eos = tokenizerVocabSize - 1;
        ClipTextConfig textConfig = new ClipTextConfig(tokenizerVocabSize, positive(text, "hidden_size", null),
                positive(text, "intermediate_size", null), positive(text, "num_hidden_layers", null),
                positive(text, "num_attention_heads", null),
                positive(text, "max_position_embeddings", modelMaxLength), activation(text),
                text.getDouble("layer_norm_eps", 1e-5), eos - 1, eos, eos, projection);
        if (textConfig.maxPositionEmbeddings() < modelMaxLength) {
            throw text.error("max_position_embeddings", "(" + textConfig.maxPositionEmbeddings()
                    + ") is shorter than the tokenizer's model_max_length " + modelMaxLength);
        }
        ClipVisionConfig visionConfig = new ClipVisionConfig(imageSize, positive(vision, "patch_size", null),
                channels, positive(vision, "hidden_size", null), positive(vision, "intermediate_size", null),
                positive(vision, "num_hidden_layers", null), positive(vision, "num_attention_heads", null),
                activation(vision), vision.getDouble("layer_norm_eps", 1e-5));
        return new ClipModelConfig(textConfig, visionConfig, projection,
                model.getDouble("logit_scale_init_value", ClipModelConfig.DEFAULT_LOGIT_SCALE_INIT));
    }

    private static ClipActivation activation(JsonConfig c) {
        String name = c.getString("hidden_act", ClipActivation.QUICK_GELU.configName());
        ClipActivation a = ClipActivation.fromConfigName(name);
        if (a == null) {
            throw c.error("hidden_act", "is '" + name + "'; supported: " + Arrays.stream(ClipActivation.values())
                    .map(ClipActivation::configName).toList());
        }
        return a;
    }

    private static int positive(JsonConfig c, String key, Integer fallback) {
        if (fallback == null && !c.has(key)) {
            throw c.error(key, "is missing");
        }
        int v = c.getInt(key, fallback == null ? 0 : fallback);
        if (v <= 0) {
            throw c.error(key, "must be > 0, got " + v);
        }
        return v;
    }

    private static JsonConfig section(JsonConfig doc, String key, Set<String> known) {
        JsonConfig c = doc.section(key, true);
        c.rejectUnknown(known);
        return c;
    }
}
