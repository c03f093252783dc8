package dev.mdx.text;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The transformers {@code CLIPTextConfig} ({@code text_encoder/config.json}).
 *
 * @param vocabSize rows of the token embedding
 * @param hiddenSize width of the transformer
 * @param intermediateSize width of each MLP
 * @param numHiddenLayers encoder layers
 * @param numAttentionHeads heads per self-attention (must divide hiddenSize)
 * @param maxPositionEmbeddings longest input sequence
 * @param hiddenAct MLP activation
 * @param layerNormEps epsilon of every LayerNorm
 * @param bosTokenId id of the start token
 * @param eosTokenId id of the end token; 2 selects the legacy pooling rule (see {@link ClipTextModel})
 * @param padTokenId id of the padding token
 * @param projectionDim width of the text projection of CLIPTextModelWithProjection (unused by CLIPTextModel)
 */
public record ClipTextConfig(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
        int numAttentionHeads, int maxPositionEmbeddings, ClipActivation hiddenAct, double layerNormEps,
        int bosTokenId, int eosTokenId, int padTokenId, int projectionDim) {

    /**
     * transformers' CLIPTextConfig defaults for keys that a saved config may leave out (it writes only the
     * values that differ from PretrainedConfig's, and the token ids are among those).
     */
    private static final int DEFAULT_BOS = 49406;
    private static final int DEFAULT_EOS = 49407;
    private static final int DEFAULT_PAD = 1;
    private static final int DEFAULT_PROJECTION_DIM = 512;
    private static final double DEFAULT_LAYER_NORM_EPS = 1e-5;

    /** The eos id of the original CLIP configs, which makes transformers pool at argmax(input_ids). */
    static final int LEGACY_EOS_TOKEN_ID = 2;

    public ClipTextConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("max_position_embeddings", maxPositionEmbeddings);
        positive("projection_dim", projectionDim);
        if (maxPositionEmbeddings < 2) {
            throw new ModelFormatException("CLIP text config: max_position_embeddings must be at least 2 (the start"
                    + " and end tokens), got " + maxPositionEmbeddings);
        }
        if (hiddenSize % numAttentionHeads != 0) {
            throw new ModelFormatException("CLIP text config: hidden_size " + hiddenSize
                    + " is not divisible by num_attention_heads " + numAttentionHeads);
        }
        if (hiddenAct == null) {
            throw new ModelFormatException("CLIP text config: hidden_act is missing");
        }
        if (!(layerNormEps > 0)) {
            throw new ModelFormatException("CLIP text config: layer_norm_eps must be positive, got " + layerNormEps);
        }
    }

    public static ClipTextConfig read(Path configJson) {
        return from(JsonConfig.read(configJson));
    }

    public static ClipTextConfig from(JsonConfig json) {
        String modelType = json.getString("model_type", "clip_text_model");
        if (!modelType.equals("clip_text_model")) {
            throw json.error("model_type", "is '" + modelType + "'; only clip_text_model is supported");
        }
        String act = json.getString("hidden_act", ClipActivation.QUICK_GELU.configName());
        ClipActivation activation = ClipActivation.fromConfigName(act);
        if (activation == null) {
            throw json.error("hidden_act", "is '" + act + "'; supported: " + Arrays.stream(ClipActivation.values())
                    .map(ClipActivation::configName).toList());
        }
        try {
            return new ClipTextConfig(
                    json.requireInt("vocab_size"),
                    json.requireInt("hidden_size"),
                    json.requireInt("intermediate_size"),
                    json.requireInt("num_hidden_layers"),
                    json.requireInt("num_attention_heads"),
                    json.requireInt("max_position_embeddings"),
                    activation,
                    json.getDouble("layer_norm_eps", DEFAULT_LAYER_NORM_EPS),
                    json.getInt("bos_token_id", DEFAULT_BOS),
                    json.getInt("eos_token_id", DEFAULT_EOS),
                    json.getInt("pad_token_id", DEFAULT_PAD),
                    json.getInt("projection_dim", DEFAULT_PROJECTION_DIM));
        } catch (ModelFormatException e) {
            throw new ModelFormatException(json.source() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The config as transformers writes {@code text_encoder/config.json} for a CLIPTextModel, so that both
     * {@link #read} and transformers' {@code CLIPTextModel.from_pretrained} take it.
     */
    public ObjectNode toJsonNode() {
        ObjectNode o = JsonConfig.MAPPER.createObjectNode();
        o.putArray("architectures").add("CLIPTextModel");
        o.put("attention_dropout", 0.0);
        o.put("bos_token_id", bosTokenId);
        o.put("eos_token_id", eosTokenId);
        o.put("hidden_act", hiddenAct.configName());
        o.put("hidden_size", hiddenSize);
        o.put("initializer_factor", 1.0);
        o.put("initializer_range", 0.02);
        o.put("intermediate_size", intermediateSize);
        o.put("layer_norm_eps", layerNormEps);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("model_type", "clip_text_model");
        o.put("num_attention_heads", numAttentionHeads);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("pad_token_id", padTokenId);
        o.put("projection_dim", projectionDim);
        o.put("torch_dtype", "float32");
        o.put("vocab_size", vocabSize);
        return o;
    }

    /**
     * Fails when {@code tokenizer} makes ids this text encoder has no embedding for: a tokenizer of another model,
     * which the engine would only report at the first prompt as an index error.
     */
    public void requireTokenizer(ClipTokenizer tokenizer) {
        if (tokenizer.maxId() >= vocabSize) {
            throw new ModelFormatException("the tokenizer makes ids up to " + tokenizer.maxId() + " but the text"
                    + " encoder's vocab_size is " + vocabSize + " (a tokenizer of another model?)");
        }
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** True for configs with eos_token_id 2, where transformers pools at the largest id instead of the eos id. */
    public boolean legacyPooling() {
        return eosTokenId == LEGACY_EOS_TOKEN_ID;
    }

    private static void positive(String field, int value) {
        if (value <= 0) {
            throw new ModelFormatException("CLIP text config: " + field + " must be positive, got " + value);
        }
    }
}
