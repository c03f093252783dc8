package dev.mdx.text;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.LayerNorm;
import dev.mdx.nn.Linear;
import dev.mdx.nn.Module;

/**
 * transformers CLIPEncoderLayer, pre-LayerNorm: x + attn(LN1(x)), then h + fc2(act(fc1(LN2(h)))). The text and the
 * vision tower of CLIP share it.
 */
public final class ClipEncoderLayer extends Module {
    private final ClipAttention selfAttn;
    private final LayerNorm layerNorm1;
    private final Mlp mlp;
    private final LayerNorm layerNorm2;

    ClipEncoderLayer(ClipTextConfig config) {
        this(config.hiddenSize(), config.intermediateSize(), config.numAttentionHeads(), config.hiddenAct(),
                config.layerNormEps());
    }

    public ClipEncoderLayer(int hidden, int intermediate, int heads, ClipActivation activation, double layerNormEps) {
        if (hidden % heads != 0) {
            throw new IllegalArgumentException("width " + hidden + " is not divisible by " + heads + " heads");
        }
        float eps = (float) layerNormEps;
        selfAttn = child("self_attn", new ClipAttention(hidden, heads));
        layerNorm1 = child("layer_norm1", new LayerNorm(hidden, eps));
        mlp = child("mlp", new Mlp(hidden, intermediate, activation));
        layerNorm2 = child("layer_norm2", new LayerNorm(hidden, eps));
    }

    /** (B, L, D) with an additive mask broadcastable to (B, H, L, L), or null for none -> (B, L, D). */
    public NDArray forward(NDArray x, NDArray mask) {
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
