package dev.mdx.text;

import dev.mdx.nn.LayerNorm;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;
import java.util.List;

/** transformers CLIPTextTransformer (key prefix {@code text_model}): embeddings, encoder layers, final LayerNorm. */
final class ClipTextTransformer extends Module {
    private final ClipEmbeddings embeddings;
    private final ModuleList<ClipEncoderLayer> layers;
    private final LayerNorm finalLayerNorm;

    ClipTextTransformer(ClipTextConfig config) {
        embeddings = child("embeddings", new ClipEmbeddings(config));
        layers = child("encoder", new Encoder(config)).layers;
        finalLayerNorm = child("final_layer_norm", new LayerNorm(config.hiddenSize(), (float) config.layerNormEps()));
    }

    ClipEmbeddings embeddings() {
        return embeddings;
    }

    List<ClipEncoderLayer> layers() {
        return layers.items();
    }

    LayerNorm finalLayerNorm() {
        return finalLayerNorm;
    }

    /** transformers CLIPEncoder (key prefix {@code encoder}): the list of layers. */
    private static final class Encoder extends Module {
        private final ModuleList<ClipEncoderLayer> layers;

        Encoder(ClipTextConfig config) {
            layers = child("layers", new ModuleList<>());
            for (int i = 0; i < config.numHiddenLayers(); i++) {
                layers.add(new ClipEncoderLayer(config));
            }
        }
    }
}
