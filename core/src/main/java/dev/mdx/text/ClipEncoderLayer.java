package dev.mdx.text;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.LayerNorm;
import dev.mdx.nn.Linear;
import dev.mdx.nn.Module;

/** transformers CLIPEncoderLayer, pre-LayerNorm: x + attn(LN1(x)), then h + fc2(act(fc1(LN2(h)))). */
final class ClipEncoderLayer extends Module {
    private final ClipAttention selfAttn;
    private final LayerNorm layerNorm1;
    private final Mlp mlp;
    private final LayerNorm layerNorm2;

    ClipEncoderLayer(ClipTextConfig config) {
        float eps = (float) config.layerNormEps();
        selfAttn = child("self_attn", new ClipAttention(config.hiddenSize(), config.numAttentionHeads()));
        layerNorm1 = child("layer_norm1", new LayerNorm(config.hiddenSize(), eps));
        mlp = child("mlp", new Mlp(config.hiddenSize(), config.intermediateSize(), config.hiddenAct()));
        layerNorm2 = child("layer_norm2", new LayerNorm(config.hiddenSize(), eps));
    }

    /** (B, L, D) -> (B, L, D). */
    NDArray forward(NDArray x, NDArray mask) {
        NDArray h = x.add(selfAttn.forward(layerNorm1.forward(x), mask));
        return h.add(mlp.forward(layerNorm2.forward(h)));
    }

    /** transformers CLIPMLP: fc1 -> activation -> fc2. */
    static final class Mlp extends Module {
        private final Linear fc1;
        private final Linear fc2;
        private final ClipActivation activation;

        Mlp(int hidden, int intermediate, ClipActivation activation) {
            this.activation = activation;
            fc1 = child("fc1", new Linear(hidden, intermediate, true));
            fc2 = child("fc2", new Linear(intermediate, hidden, true));
        }

        NDArray forward(NDArray x) {
            return fc2.forward(activation.apply(fc1.forward(x)));
        }
    }
}
