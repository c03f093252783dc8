package dev.mdx.train.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.Embedding;
import dev.mdx.nn.LayerNorm;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;
import dev.mdx.nn.Parameter;
import dev.mdx.tensor.Ops;
import dev.mdx.text.ClipEncoderLayer;

/**
 * transformers' CLIPVisionTransformer (key prefix {@code vision_model}): patch embedding plus a class token and
 * learned positions, {@code pre_layrnorm} (sic, transformers' key), pre-LayerNorm encoder layers shared with the text
 * tower, and {@code post_layernorm} on the class token as the pooled output.
 */
final class ClipVisionTransformer extends Module {
    private final ClipVisionConfig config;
    private final Embeddings embeddings;
    private final LayerNorm preLayrnorm;
    private final ModuleList<ClipEncoderLayer> layers;
    private final LayerNorm postLayernorm;

    ClipVisionTransformer(ClipVisionConfig config) {
        this.config = config;
        float eps = (float) config.layerNormEps();
        embeddings = child("embeddings", new Embeddings(config));
        preLayrnorm = child("pre_layrnorm", new LayerNorm(config.hiddenSize(), eps));
        layers = child("encoder", new Encoder(config)).layers;
        postLayernorm = child("post_layernorm", new LayerNorm(config.hiddenSize(), eps));
    }

    /** (B, C, H, W) pixels -> (B, D) pooled output: post_layernorm of the class token's last hidden state. */
    NDArray forward(NDArray pixels) {
        Shape s = pixels.getShape();
        Shape expected = new Shape(s.get(0), config.numChannels(), config.imageSize(), config.imageSize());
        if (s.dimension() != 4 || !s.equals(expected)) {
            throw new IllegalArgumentException("images must be (batch, " + config.numChannels() + ", "
                    + config.imageSize() + ", " + config.imageSize() + "), got " + s);
        }
        NDArray h = preLayrnorm.forward(embeddings.forward(pixels));
        for (ClipEncoderLayer layer : layers.items()) {
            h = layer.forward(h, null);
        }
        // (B, 1 + N, D) -> (B, D)
        return postLayernorm.forward(h.get(":, 0, :"));
    }

    /** transformers CLIPVisionEmbeddings. */
    private static final class Embeddings extends Module {
        private final int dim;
        private final Parameter classEmbedding;
        private final Conv2d patchEmbedding;
        private final Embedding positionEmbedding;

        Embeddings(ClipVisionConfig c) {
            dim = c.hiddenSize();
            classEmbedding = parameter("class_embedding", dim);
            patchEmbedding = child("patch_embedding",
                    new Conv2d(c.numChannels(), dim, c.patchSize(), c.patchSize(), 0, 1, false));
            positionEmbedding = child("position_embedding", new Embedding(c.numPatches() + 1, dim));
        }

        /** (B, C, H, W) -> (B, 1 + N, D). */
        NDArray forward(NDArray pixels) {
            long batch = pixels.getShape().get(0);
            // (B, C, H, W) -> (B, D, H/P, W/P) -> (B, N, D)
            NDArray patches = patchEmbedding.forward(pixels).reshape(batch, dim, -1).transpose(0, 2, 1);
            NDArray cls = Ops.weightView(classEmbedding.get(), pixels, 1, 1, dim).broadcast(batch, 1, dim);
            NDArray tokens = NDArrays.concat(new NDList(cls, patches), 1);
            long length = tokens.getShape().get(1);
            NDArray positions = pixels.getManager().arange(0, (int) length, 1, DataType.INT64);
            // (B, 1 + N, D) + (1 + N, D)
            return tokens.add(positionEmbedding.forward(positions));
        }
    }

    /** transformers CLIPEncoder (key prefix {@code encoder}). */
    private static final class Encoder extends Module {
        private final ModuleList<ClipEncoderLayer> layers;

        Encoder(ClipVisionConfig c) {
            layers = child("layers", new ModuleList<>());
            for (int i = 0; i < c.numHiddenLayers(); i++) {
                layers.add(new ClipEncoderLayer(c.hiddenSize(), c.intermediateSize(), c.numAttentionHeads(),
                        c.hiddenAct(), c.layerNormEps()));
            }
        }
    }
}
