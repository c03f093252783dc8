package dev.mdx.prompt;

import dev.mdx.text.TokenizedPrompt;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A prompt as the text encoder reads it: one or more chunks of the encoder's length (BOS, up to length - 2 tokens,
 * EOS, padding), each encoded on its own and the results concatenated along the sequence (A1111's and
 * stable-diffusion.cpp's long prompts); a weight per position (A1111's attention syntax, 1 for BOS, EOS and
 * padding); and the embedding vectors that replace token embeddings at some positions.
 *
 * @param ids one array of the encoder's length per chunk
 * @param weights one array of the same length per chunk
 * @param vectors per chunk, per position, the vector replacing its token embedding, or null
 * @param tokens how many tokens (embedding vectors included, BOS/EOS/padding not) the prompt has
 * @param embeddings the names of the embeddings used, in order of use
 */
public record ChunkedPrompt(List<int[]> ids, List<float[]> weights, List<float[][]> vectors, int tokens,
        List<String> embeddings) {

    public ChunkedPrompt {
        if (ids.isEmpty() || ids.size() != weights.size() || ids.size() != vectors.size()) {
            throw new IllegalArgumentException("a prompt needs at least one chunk, with weights and vectors for each");
        }
        ids = List.copyOf(ids);
        weights = List.copyOf(weights);
        vectors = List.copyOf(vectors);
        embeddings = List.copyOf(embeddings);
    }

    /** The prompt of ids the caller tokenized: one chunk, weight 1, no embeddings. */
    public static ChunkedPrompt of(TokenizedPrompt prompt) {
        int[] ids = prompt.inputIds();
        return new ChunkedPrompt(List.of(ids), List.of(ones(ids.length)), List.<float[][]>of(new float[ids.length][]),
                Math.min(prompt.untruncatedLength(), ids.length) - 2, List.of());
    }

    public int chunkCount() {
        return ids.size();
    }

    /** Ids per chunk (the encoder's length). */
    public int chunkLength() {
        return ids.get(0).length;
    }

    /** Whether chunk {@code c} has a position of weight other than 1. */
    public boolean weighted(int c) {
        for (float w : weights.get(c)) {
            if (w != 1f) {
                return true;
            }
        }
        return false;
    }

    /** Whether chunk {@code c} has embedding vectors. */
    public boolean hasVectors(int c) {
        for (float[] v : vectors.get(c)) {
            if (v != null) {
                return true;
            }
        }
        return false;
    }

    /**
     * This prompt with {@code empty} (the empty prompt's single chunk) appended until it has {@code chunks} chunks:
     * how A1111 pads the shorter of prompt and negative prompt so both conditionings have the same length.
     */
    public ChunkedPrompt padTo(int chunks, ChunkedPrompt empty) {
        if (chunks <= chunkCount()) {
            return this;
        }
        List<int[]> i = new ArrayList<>(ids);
        List<float[]> w = new ArrayList<>(weights);
        List<float[][]> v = new ArrayList<>(vectors);
        while (i.size() < chunks) {
            i.add(empty.ids.get(0));
            w.add(empty.weights.get(0));
            v.add(empty.vectors.get(0));
        }
        return new ChunkedPrompt(i, w, v, tokens, embeddings);
    }

    @Override
    public List<int[]> ids() {
        return ids.stream().map(int[]::clone).toList();
    }

    /** The ids of chunk {@code c}, shared (callers must not write to it). */
    int[] idsOf(int c) {
        return ids.get(c);
    }

    float[] weightsOf(int c) {
        return weights.get(c);
    }

    float[][] vectorsOf(int c) {
        return vectors.get(c);
    }

    static float[] ones(int n) {
        float[] w = new float[n];
        Arrays.fill(w, 1f);
        return w;
    }
}
