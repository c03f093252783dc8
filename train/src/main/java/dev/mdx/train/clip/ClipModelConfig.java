package dev.mdx.train.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.text.ClipTextConfig;
import java.nio.file.Path;

/**
 * transformers' {@code CLIPConfig} ({@code config.json} of a CLIPModel): the two towers and the shared embedding.
 *
 * @param text the text tower; its projection_dim equals {@code projectionDim}
 * @param vision the image tower
 * @param projectionDim width of the shared embedding space
 * @param logitScaleInitValue initial log of the logit scale (CLIP: ln(1 / 0.07) = 2.6592)
 */
public record ClipModelConfig(ClipTextConfig text, ClipVisionConfig vision, int projectionDim,
        double logitScaleInitValue) {
    public static final double DEFAULT_LOGIT_SCALE_INIT = 2.6592;

    public ClipModelConfig {
        if (projectionDim <= 0) {
            throw new ModelFormatException("CLIP config: projection_dim must be positive, got " + projectionDim);
        }
        if (text.projectionDim() != projectionDim) {
            throw new ModelFormatException("CLIP config: text_config.projection_dim " + text.projectionDim()
                    + " differs from projection_dim " + projectionDim);
        }
        if (!Double.isFinite(logitScaleInitValue)) {
            throw new ModelFormatException("CLIP config: logit_scale_init_value must be finite");
        }
    }

    public static ClipModelConfig read(Path configJson) {
        return from(JsonConfig.read(configJson));
    }

    public static ClipModelConfig from(JsonConfig json) {
        String modelType = json.getString("model_type", "clip");
        if (!modelType.equals("clip")) {
            throw json.error("model_type", "is '" + modelType + "'; expected clip");
        }
        return new ClipModelConfig(
                ClipTextConfig.from(section(json, "text_config")),
                ClipVisionConfig.from(section(json, "vision_config")),
                json.requireInt("projection_dim"),
                json.getDouble("logit_scale_init_value", DEFAULT_LOGIT_SCALE_INIT));
    }

    private static JsonConfig section(JsonConfig json, String key) {
        JsonNode n = json.root().get(key);
        if (n == null || !n.isObject()) {
            throw json.error(key, n == null ? "is missing" : "must be an object");
        }
        return new JsonConfig(json.source() + ": " + key, n);
    }

    public ObjectNode toJsonNode() {
        ObjectNode o = JsonConfig.MAPPER.createObjectNode();
        o.putArray("architectures").add("CLIPModel");
        o.put("initializer_factor", 1.0);
        o.put("logit_scale_init_value", logitScaleInitValue);
        o.put("model_type", "clip");
        o.put("projection_dim", projectionDim);
        ObjectNode t = text.toJsonNode();
        t.remove("architectures");
        t.remove("torch_dtype");
        o.set("text_config", t);
        o.put("torch_dtype", "float32");
        o.set("vision_config", vision.toJsonNode());
        return o;
    }

    public String toJson() {
        return JsonConfig.pretty(toJsonNode());
    }
}
