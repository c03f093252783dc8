package dev.mdx.train.clip;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.text.ClipActivation;
import java.util.Arrays;

/**
 * transformers' {@code CLIPVisionConfig}: a ViT over square images cut into square patches.
 *
 * @param imageSize height and width of the input
 * @param patchSize height and width of a patch (divides imageSize)
 * @param numChannels 3 for RGB, 1 for gray
 * @param hiddenSize width of the transformer
 * @param intermediateSize width of each MLP
 * @param numHiddenLayers encoder layers
 * @param numAttentionHeads heads per self-attention (divides hiddenSize)
 * @param hiddenAct MLP activation
 * @param layerNormEps epsilon of every LayerNorm
 */
public record ClipVisionConfig(int imageSize, int patchSize, int numChannels, int hiddenSize, int intermediateSize,
        int numHiddenLayers, int numAttentionHeads, ClipActivation hiddenAct, double layerNormEps) {
    private static final double DEFAULT_LAYER_NORM_EPS = 1e-5;

    public ClipVisionConfig {
        positive("image_size", imageSize);
        positive("patch_size", patchSize);
        positive("num_channels", numChannels);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        if (imageSize % patchSize != 0) {
            throw new ModelFormatException("CLIP vision config: patch_size " + patchSize
                    + " does not divide image_size " + imageSize);
        }
        if (hiddenSize % numAttentionHeads != 0) {
            throw new ModelFormatException("CLIP vision config: hidden_size " + hiddenSize
                    + " is not divisible by num_attention_heads " + numAttentionHeads);
        }
        if (hiddenAct == null) {
            throw new ModelFormatException("CLIP vision config: hidden_act is missing");
        }
        if (!(layerNormEps > 0)) {
            throw new ModelFormatException("CLIP vision config: layer_norm_eps must be positive, got "
                    + layerNormEps);
        }
    }

    /** Patches per image side squared: the sequence length without the class token. */
    public int numPatches() {
        int side = imageSize / patchSize;
        return side * side;
    }

    public static ClipVisionConfig from(JsonConfig json) {
        String modelType = json.getString("model_type", "clip_vision_model");
        if (!modelType.equals("clip_vision_model")) {
            throw json.error("model_type", "is '" + modelType + "'; expected clip_vision_model");
        }
        String act = json.getString("hidden_act", ClipActivation.QUICK_GELU.configName());
        ClipActivation activation = ClipActivation.fromConfigName(act);
        if (activation == null) {
            throw json.error("hidden_act", "is '" + act + "'; supported: " + Arrays.stream(ClipActivation.values())
                    .map(ClipActivation::configName).toList());
        }
        try {
            return new ClipVisionConfig(json.requireInt("image_size"), json.requireInt("patch_size"),
                    json.getInt("num_channels", 3), json.requireInt("hidden_size"),
                    json.requireInt("intermediate_size"), json.requireInt("num_hidden_layers"),
                    json.requireInt("num_attention_heads"), activation,
                    json.getDouble("layer_norm_eps", DEFAULT_LAYER_NORM_EPS));
        } catch (ModelFormatException e) {
            throw new ModelFormatException(json.source() + ": " + e.getMessage(), e);
        }
    }

    public ObjectNode toJsonNode() {
        ObjectNode o = JsonConfig.MAPPER.createObjectNode();
        o.put("attention_dropout", 0.0);
        o.put("hidden_act", hiddenAct.configName());
        o.put("hidden_size", hiddenSize);
        o.put("image_size", imageSize);
        o.put("intermediate_size", intermediateSize);
        o.put("layer_norm_eps", layerNormEps);
        o.put("model_type", "clip_vision_model");
        o.put("num_attention_heads", numAttentionHeads);
        o.put("num_channels", numChannels);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("patch_size", patchSize);
        return o;
    }

    private static void positive(String field, int value) {
        if (value <= 0) {
            throw new ModelFormatException("CLIP vision config: " + field + " must be positive, got " + value);
        }
    }
}
