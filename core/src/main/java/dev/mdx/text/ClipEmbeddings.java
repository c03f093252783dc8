package dev.mdx.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.mdx.nn.Embedding;
import dev.mdx.nn.Module;

/** transformers CLIPTextEmbeddings: token embedding plus learned absolute position embedding. */
final class ClipEmbeddings extends Module {
    private final Embedding tokenEmbedding;
    private final Embedding positionEmbedding;

    ClipEmbeddings(ClipTextConfig config) {
        tokenEmbedding = child("token_embedding", new Embedding(config.vocabSize(), config.hiddenSize()));
        positionEmbedding = child("position_embedding",
                new Embedding(config.maxPositionEmbeddings(), config.hiddenSize()));
    }

    /** (B, L) int64 -> (B, L, D), positions 0..L-1. */
    NDArray forward(NDArray ids) {
        long length = ids.getShape().get(1);
        NDArray positions = ids.getManager().arange(0, (int) length, 1, DataType.INT64);
        // (B, L, D) + (L, D)
        return tokenEmbedding.forward(ids).add(positionEmbedding.forward(positions));
    }
}
