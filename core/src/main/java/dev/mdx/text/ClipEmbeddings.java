package dev.mdx.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
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
        return withPositions(tokenEmbedding.forward(ids));
    }

    /**
     * Like {@link #forward(NDArray)} with the token embedding replaced by {@code vectors} (B, L, D) where
     * {@code replace} (B, L, D, boolean) is true: textual-inversion vectors in place of their placeholder ids.
     */
    NDArray forward(NDArray ids, NDArray replace, NDArray vectors) {
        return withPositions(NDArrays.where(replace, vectors, tokenEmbedding.forward(ids)));
    }

    /** (B, L, D) token embeddings + the (L, D) position embeddings of 0..L-1. */
    private NDArray withPositions(NDArray tokens) {
        long length = tokens.getShape().get(1);
        NDArray positions = tokens.getManager().arange(0, (int) length, 1, DataType.INT64);
        return tokens.add(positionEmbedding.forward(positions));
    }
}
