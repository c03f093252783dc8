package dev.mdx.export;

import static dev.mdx.export.OnnxGraph.attr;

import dev.mdx.text.ClipActivation;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.text.ClipTextModel;
import dev.mdx.tensor.Ops;
import java.util.List;
import onnx.Onnx.ModelProto;

/**
 * The ONNX graph of {@link ClipTextModel}'s forward without a padding mask (as Stable Diffusion pipelines run it):
 * token + position embeddings, the pre-LayerNorm causal encoder layers, final_layer_norm. Input {@value #INPUT_IDS}
 * (B, L) int64, L at most max_position_embeddings; output {@value #OUTPUT} (B, L, hidden), what the UNet reads at
 * clip skip 0 (mdx's default).
 */
final class TextEncoderExporter {
    static final String INPUT_IDS = "input_ids";
    static final String OUTPUT = "last_hidden_state";

    /** transformers masks with the most negative float32, not -inf, as ClipTextModel does. */
    private static final float MASK_VALUE = -Float.MAX_VALUE;

    private TextEncoderExporter() {}

    static ModelProto export(ClipTextModel model, OnnxPrecision precision, String version) {
        ClipTextConfig config = model.config();
        OnnxGraph g = new OnnxGraph("text_encoder", precision);
        Layers l = new Layers(g);
        ModuleRef text = ModuleRef.root(model).child("text_model");
        String ids = g.input(INPUT_IDS, OnnxGraph.INT64, "batch", "sequence");
        String length = l.dims(ids, 1, 2);

        ModuleRef embeddings = text.child("embeddings");
        ModuleRef token = embeddings.child("token_embedding");
        ModuleRef position = embeddings.child("position_embedding");
        String tokens = g.op("Gather", token.key(), g.weight(token.paramKey("weight"), token.parameter("weight").get()),
                ids);
        // positions 0..L-1: the first L rows of the position table, (L, D)
        String positions = g.op("Slice", position.key(), g.weight(position.paramKey("weight"),
                position.parameter("weight").get()), g.ints(0), length, g.ints(0));
        String h = g.op("Add", embeddings.key(), tokens, positions);

        int max = config.maxPositionEmbeddings();
        float[] causal = new float[max * max];
        for (int i = 0; i < max; i++) {
            for (int j = i + 1; j < max; j++) {
                causal[i * max + j] = MASK_VALUE;
            }
        }
        // (max, max) -> (L, L): 0 on and below the diagonal, the mask value above
        String mask = g.op("Slice", "causal_mask", g.constant("causal_mask", causal, max, max), g.ints(0, 0),
                g.op("Concat", "causal_mask", List.of(length, length), attr("axis", 0L)), g.ints(0, 1));

        ModuleRef layers = text.child("encoder").child("layers");
        int heads = config.numAttentionHeads();
        long hidden = config.hiddenSize();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            ModuleRef layer = layers.child(i);
            ModuleRef attn = layer.child("self_attn");
            String x = l.layerNorm(layer.child("layer_norm1"), h);
            String attended = l.attention(attn.key(), l.linear(attn.child("q_proj"), x),
                    l.linear(attn.child("k_proj"), x), l.linear(attn.child("v_proj"), x), heads, hidden,
                    Ops.AttentionKind.SOFTMAX, mask);
            h = g.op("Add", layer.key(), h, l.linear(attn.child("out_proj"), attended));
            ModuleRef mlp = layer.child("mlp");
            String fc1 = l.linear(mlp.child("fc1"), l.layerNorm(layer.child("layer_norm2"), h));
            String act = config.hiddenAct() == ClipActivation.QUICK_GELU ? l.quickGelu(fc1) : l.gelu(fc1);
            h = g.op("Add", layer.key(), h, l.linear(mlp.child("fc2"), act));
        }
        h = l.layerNorm(text.child("final_layer_norm"), h);
        g.output(h, OUTPUT, OnnxGraph.FLOAT, "batch", "sequence", hidden);
        return g.model(version, "mdx CLIPTextModel");
    }
}
