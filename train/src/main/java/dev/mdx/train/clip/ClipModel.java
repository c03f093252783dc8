package dev.mdx.train.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Linear;
import dev.mdx.nn.Module;
import dev.mdx.nn.Parameter;
import dev.mdx.tensor.Ops;
import dev.mdx.text.ClipTextModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * transformers' CLIPModel with its state-dict keys: {@code text_model.*} (a {@link ClipTextModel}, so the text tower
 * saves alone as a diffusers {@code text_encoder/}), {@code vision_model.*}, {@code visual_projection.weight},
 * {@code text_projection.weight} (both without bias) and the scalar {@code logit_scale}.
 */
public final class ClipModel extends Module {
    public static final String WEIGHTS_FILE = "model.safetensors";
    public static final String CONFIG_FILE = "config.json";
    /** The learned log-scale is clamped to [0, ln 100] as OpenCLIP does: logits are scaled by 1 to 100. */
    static final float MAX_LOG_SCALE = (float) Math.log(100);

    private final ClipModelConfig config;
    private final ClipTextModel textModel;
    private final ClipVisionTransformer visionModel;
    private final Linear visualProjection;
    private final Linear textProjection;
    private final Parameter logitScale;

    public ClipModel(ClipModelConfig config) {
        this.config = config;
        textModel = new ClipTextModel(config.text());
        // the text tower's own "text_model" subtree, so its keys are text_model.* here too
        child("text_model", textModel.children().get("text_model"));
        visionModel = child("vision_model", new ClipVisionTransformer(config.vision()));
        visualProjection = child("visual_projection",
                new Linear(config.vision().hiddenSize(), config.projectionDim(), false));
        textProjection = child("text_projection",
                new Linear(config.text().hiddenSize(), config.projectionDim(), false));
        logitScale = parameter("logit_scale");
    }

    public ClipModelConfig config() {
        return config;
    }

    /** The text tower alone; it shares its parameters with this model. */
    public ClipTextModel textModel() {
        return textModel;
    }

    /** Seeded random start: towers and projections as {@link StateDicts#initRandom}, the logit scale from config. */
    public void initRandom(NDManager manager, long seed) {
        StateDicts.initRandom(textModel, manager, seed);
        StateDicts.initRandom(visionModel, manager, seed + 1);
        StateDicts.initRandom(visualProjection, manager, seed + 2);
        StateDicts.initRandom(textProjection, manager, seed + 3);
        logitScale.set(manager.create((float) config.logitScaleInitValue()));
    }

    /** (B, C, H, W) in [-1, 1] -> (B, D_vision): the pooled image features (before the projection). */
    public NDArray imageFeatures(NDArray pixels) {
        return visionModel.forward(pixels);
    }

    /** (B, C, H, W) -> (B, P) image embeddings, not normalised. */
    public NDArray imageEmbeds(NDArray pixels) {
        return visualProjection.forward(imageFeatures(pixels));
    }

    /** (B, L) token ids -> (B, P) text embeddings from the pooled (end-of-text) position, not normalised. */
    public NDArray textEmbeds(NDArray inputIds) {
        return textProjection.forward(textModel.forward(inputIds).pooledOutput());
    }

    /** exp(logit_scale) clamped to [1, 100], as a (1)-shaped array in the manager of {@code like}. */
    public NDArray logitScale(NDArray like) {
        return Ops.weightView(logitScale.get(), like, 1).clip(0f, MAX_LOG_SCALE).exp();
    }

    /** The current exp(logit_scale), clamped as in {@link #logitScale(NDArray)}. */
    public double logitScaleValue() {
        double raw = logitScale.get().toType(DataType.FLOAT64, false).getDouble();
        return Math.exp(Math.max(0, Math.min(raw, MAX_LOG_SCALE)));
    }

    /** Writes {@code config.json} (a transformers CLIPConfig) and {@code model.safetensors}. */
    public void save(Path dir) {
        AtomicFiles.writeBytes(dir.resolve(CONFIG_FILE), (config.toJson() + "\n").getBytes(StandardCharsets.UTF_8));
        StateDicts.save(this, dir.resolve(WEIGHTS_FILE), Map.of("format", "pt"));
    }

    /** Writes the text tower as a diffusers {@code text_encoder/}: CLIPTextModel config and text_model.* weights. */
    public void saveTextEncoder(Path dir) {
        String json = config.text().toJsonNode().toPrettyString();
        AtomicFiles.writeBytes(dir.resolve(CONFIG_FILE), (json + "\n").getBytes(StandardCharsets.UTF_8));
        StateDicts.save(textModel, dir.resolve(WEIGHTS_FILE), Map.of("format", "pt"));
    }

    public static ClipModel load(Path dir, NDManager manager) {
        ClipModel model = new ClipModel(ClipModelConfig.read(dir.resolve(CONFIG_FILE)));
        try (SafeTensorsFile st = SafeTensorsFile.open(dir.resolve(WEIGHTS_FILE))) {
            // transformers may save the position_ids buffers; positions are always 0..L-1 here
            StateDicts.load(model, st, manager, k -> k.endsWith("embeddings.position_ids") ? null : k);
        }
        return model;
    }
}
