package dev.mdx.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Module;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * transformers CLIPTextModel with its state-dict keys ({@code text_model.embeddings...},
 * {@code text_model.encoder.layers.i...}, {@code text_model.final_layer_norm}): a pre-LayerNorm causal
 * transformer over token + position embeddings.
 */
public final class ClipTextModel extends Module {
    /** A saved buffer, not a weight: positions are always 0..L-1, so a file may carry it or not. */
    static final String POSITION_IDS_KEY = "text_model.embeddings.position_ids";

    /** transformers masks with the most negative float32, not -inf, so masked scores stay finite. */
    private static final float MASK_VALUE = -Float.MAX_VALUE;

    private final ClipTextConfig config;
    private final ClipTextTransformer textModel;

    public ClipTextModel(ClipTextConfig config) {
        this.config = config;
        textModel = child("text_model", new ClipTextTransformer(config));
    }

    /**
     * Builds the model from a transformers {@code text_encoder/} folder ({@code config.json} and
     * {@code model.safetensors}) and loads its weights into {@code manager}.
     */
    public static ClipTextModel load(Path textEncoderDir, NDManager manager) {
        ClipTextModel model = new ClipTextModel(ClipTextConfig.read(textEncoderDir.resolve("config.json")));
        model.loadWeights(textEncoderDir.resolve("model.safetensors"), manager);
        return model;
    }

    /** Strictly loads transformers weights; a saved {@code position_ids} buffer is accepted and ignored. */
    public void loadWeights(Path safetensors, NDManager manager) {
        try (SafeTensorsFile st = SafeTensorsFile.open(safetensors)) {
            StateDicts.load(this, st, manager, key -> key.equals(POSITION_IDS_KEY) ? null : key);
        }
    }

    public ClipTextConfig config() {
        return config;
    }

    /** Runs without a padding mask, as Stable Diffusion pipelines do (padding is attended to, causally). */
    public ClipTextOutput forward(NDArray inputIds) {
        return forward(inputIds, null);
    }

    /**
     * @param inputIds (B, L) integer token ids, L at most max_position_embeddings
     * @param attentionMask (B, L) with 1 for tokens to attend to and 0 for padding, or null for none
     */
    public ClipTextOutput forward(NDArray inputIds, NDArray attentionMask) {
        return run(inputIds, attentionMask, null, null);
    }

    /**
     * Runs without a padding mask, with the token embeddings replaced by {@code vectors} (B, L, D) where
     * {@code replace} (B, L, D, boolean) is true (textual-inversion embeddings).
     */
    public ClipTextOutput forward(NDArray inputIds, NDArray replace, NDArray vectors) {
        return run(inputIds, null, replace, vectors);
    }

    private ClipTextOutput run(NDArray inputIds, NDArray attentionMask, NDArray replace, NDArray vectors) {
        Shape shape = inputIds.getShape();
        if (shape.dimension() != 2) {
            throw new IllegalArgumentException("input ids must be (batch, length), got " + shape);
        }
        int batch = Math.toIntExact(shape.get(0));
        int length = Math.toIntExact(shape.get(1));
        if (length > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence length " + length + " exceeds max_position_embeddings "
                    + config.maxPositionEmbeddings());
        }
        NDManager scope = inputIds.getManager();
        NDArray ids = inputIds.toType(DataType.INT64, false);
        NDArray h = replace == null ? textModel.embeddings().forward(ids)
                : textModel.embeddings().forward(ids, replace, vectors);
        NDArray mask = causalMask(scope, length);
        if (attentionMask != null) {
            mask = mask.add(paddingMask(attentionMask, batch, length));
        }
        List<NDArray> hidden = new ArrayList<>(config.numHiddenLayers() + 1);
        hidden.add(h);
        for (ClipEncoderLayer layer : textModel.layers()) {
            h = layer.forward(h, mask);
            hidden.add(h);
        }
        NDArray last = textModel.finalLayerNorm().forward(h);
        long[] pooledIndex = pooledIndex(ids.toLongArray(), batch, length);
        NDList rows = new NDList(batch);
        for (int b = 0; b < batch; b++) {
            rows.add(last.get(b, pooledIndex[b]));
        }
        return new ClipTextOutput(last, hidden, NDArrays.stack(rows), pooledIndex);
    }

    /**
     * The UNet conditioning for diffusers' {@code clip_skip}: final_layer_norm of the output of the layer
     * {@code clipSkip} layers before the last; 0 gives {@link ClipTextOutput#lastHiddenState()}.
     */
    public NDArray conditioning(ClipTextOutput output, int clipSkip) {
        if (clipSkip < 0 || clipSkip >= config.numHiddenLayers()) {
            throw new IllegalArgumentException("clip_skip must be between 0 and " + (config.numHiddenLayers() - 1)
                    + ", got " + clipSkip);
        }
        if (clipSkip == 0) {
            return output.lastHiddenState();
        }
        List<NDArray> hidden = output.hiddenStates();
        return textModel.finalLayerNorm().forward(hidden.get(hidden.size() - 1 - clipSkip));
    }

    /**
     * transformers' pooling position: with the legacy eos id 2 the first position of the largest id (the
     * eos of the original vocab is its largest id); otherwise the first position equal to eos_token_id, or 0
     * when there is none.
     */
    long[] pooledIndex(long[] ids, int batch, int length) {
        long[] out = new long[batch];
        for (int b = 0; b < batch; b++) {
            int best = 0;
            for (int i = 0; i < length; i++) {
                long id = ids[b * length + i];
                if (config.legacyPooling() ? id > ids[b * length + best] : id == config.eosTokenId()) {
                    best = i;
                    if (!config.legacyPooling()) {
                        break;
                    }
                }
            }
            out[b] = best;
        }
        return out;
    }

    /** (1, 1, L, L): 0 on and below the diagonal, the mask value above it. */
    private static NDArray causalMask(NDManager scope, int length) {
        float[] mask = new float[length * length];
        for (int i = 0; i < length; i++) {
            for (int j = i + 1; j < length; j++) {
                mask[i * length + j] = MASK_VALUE;
            }
        }
        return scope.create(mask, new Shape(1, 1, length, length));
    }

    /** (B, L) of 1/0 -> (B, 1, 1, L) additive: the mask value where the key position is padding. */
    private static NDArray paddingMask(NDArray attentionMask, int batch, int length) {
        if (!attentionMask.getShape().equals(new Shape(batch, length))) {
            throw new IllegalArgumentException("attention mask must be (" + batch + ", " + length + "), got "
                    + attentionMask.getShape());
        }
        NDArray keep = attentionMask.toType(DataType.FLOAT32, false);
        return keep.neg().add(1f).mul(MASK_VALUE).reshape(batch, 1, 1, length);
    }
}
