package dev.mdx.prompt;

import dev.mdx.text.ClipTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns prompt text into a {@link ChunkedPrompt} as A1111 does ({@code sd_hijack_clip.tokenize_line}): the attention
 * syntax is parsed ({@link PromptAttention}), each fragment tokenized on its own, embedding names found in its ids
 * and replaced by their vectors (n positions for n vectors), and the tokens cut into chunks of length - 2 (75 for
 * CLIP). When a chunk fills up and its last comma is at most {@value #COMMA_BACKTRACK} tokens back, the words after
 * that comma move to the next chunk (A1111's default comma_padding_backtrack); an embedding never straddles two
 * chunks; {@code BREAK} starts a new chunk.
 */
public final class PromptChunker {
    /** A1111's default comma_padding_backtrack. */
    static final int COMMA_BACKTRACK = 20;

    private final ClipTokenizer tokenizer;
    private final int length;
    private final int width;
    private final EmbeddingLibrary library;
    private final EmbeddingLibrary.Lookup lookup;
    private final int commaId;

    /**
     * @param length ids per chunk (the text encoder's length, 77 for CLIP)
     * @param width the text encoder's hidden size, which embedding vectors must have
     */
    public PromptChunker(ClipTokenizer tokenizer, int length, int width, EmbeddingLibrary library) {
        if (length < 3) {
            throw new IllegalArgumentException("a chunk of " + length + " ids leaves no room for a token");
        }
        this.tokenizer = tokenizer;
        this.length = length;
        this.width = width;
        this.library = library;
        this.lookup = library.lookup(tokenizer);
        this.commaId = commaId(tokenizer);
    }

    /** The id of the comma token, or -1 when the vocabulary has none (then no chunk moves words at commas). */
    private static int commaId(ClipTokenizer tokenizer) {
        List<String> tokens = tokenizer.tokenize(",");
        if (tokens.size() != 1) {
            return -1;
        }
        int id = tokenizer.convertTokensToIds(tokens)[0];
        return tokenizer.decode(new int[] {id}, true).equals(",") ? id : -1;
    }

    /**
     * The prompt's chunks.
     *
     * @throws IllegalArgumentException for a weight that is not a number, a pickled embedding, an embedding of another
     *     width than the text encoder's or of more vectors than a chunk holds
     */
    public ChunkedPrompt chunk(String text) {
        Builder b = new Builder();
        for (PromptAttention.Fragment f : PromptAttention.parse(text)) {
            if (f.isBreak()) {
                b.next();
                continue;
            }
            int[] ids = tokenizer.convertTokensToIds(tokenizer.tokenize(f.text()));
            float weight = (float) f.weight();
            int pos = 0;
            while (pos < ids.length) {
                int token = ids[pos];
                if (token == commaId) {
                    b.lastComma = b.tokens.size();
                } else if (b.tokens.size() == length - 2 && b.lastComma != -1
                        && b.tokens.size() - b.lastComma <= COMMA_BACKTRACK) {
                    b.moveAfterComma();
                }
                if (b.tokens.size() == length - 2) {
                    b.next();
                }
                EmbeddingLibrary.Lookup.Candidate match = lookup.at(ids, pos);
                if (match == null) {
                    b.add(token, weight, null);
                    pos++;
                    continue;
                }
                TextualInversion e = checked(library.load(match.entry()));
                if (b.tokens.size() + e.count() > length - 2) {
                    b.next();
                }
                for (float[] v : e.vectors()) {
                    b.add(0, weight, v);
                }
                b.used.add(e.name());
                pos += match.ids().length;
            }
        }
        if (!b.tokens.isEmpty() || b.chunks.isEmpty()) {
            b.next();
        }
        return new ChunkedPrompt(b.chunks, b.chunkWeights, b.chunkVectors, b.count, new ArrayList<>(b.used));
    }

    private TextualInversion checked(TextualInversion e) {
        if (e.width() != width) {
            throw new IllegalArgumentException("the embedding '" + e.name() + "' (" + e.file() + ") has vectors of "
                    + e.width() + " values, but this model's text encoder takes " + width + ": it was trained for"
                    + " another model");
        }
        if (e.count() > length - 2) {
            throw new IllegalArgumentException("the embedding '" + e.name() + "' has " + e.count() + " vectors; a"
                    + " chunk of the prompt holds at most " + (length - 2));
        }
        return e;
    }

    /** The chunk being filled and those done. */
    private final class Builder {
        final List<int[]> chunks = new ArrayList<>();
        final List<float[]> chunkWeights = new ArrayList<>();
        final List<float[][]> chunkVectors = new ArrayList<>();
        final Set<String> used = new LinkedHashSet<>();
        List<Integer> tokens = new ArrayList<>();
        List<Float> weights = new ArrayList<>();
        List<float[]> vectors = new ArrayList<>();
        int lastComma = -1;
        int count;

        void add(int token, float weight, float[] vector) {
            tokens.add(token);
            weights.add(weight);
            vectors.add(vector);
            count++;
        }

        /** Closes the chunk: BOS, its tokens, EOS, padding (the tokenizer's layout). */
        void next() {
            int[] ids = new int[length];
            Arrays.fill(ids, tokenizer.padId());
            float[] w = ChunkedPrompt.ones(length);
            float[][] v = new float[length][];
            ids[0] = tokenizer.bosId();
            for (int i = 0; i < tokens.size(); i++) {
                ids[i + 1] = tokens.get(i);
                w[i + 1] = weights.get(i);
                v[i + 1] = vectors.get(i);
            }
            ids[tokens.size() + 1] = tokenizer.eosId();
            chunks.add(ids);
            chunkWeights.add(w);
            chunkVectors.add(v);
            tokens = new ArrayList<>();
            weights = new ArrayList<>();
            vectors = new ArrayList<>();
            lastComma = -1;
        }

        /** A1111's comma backtrack: the tokens after the last comma start the next chunk. */
        void moveAfterComma() {
            int from = lastComma + 1;
            List<Integer> t = new ArrayList<>(tokens.subList(from, tokens.size()));
            List<Float> w = new ArrayList<>(weights.subList(from, weights.size()));
            List<float[]> v = new ArrayList<>(vectors.subList(from, vectors.size()));
            tokens = new ArrayList<>(tokens.subList(0, from));
            weights = new ArrayList<>(weights.subList(0, from));
            vectors = new ArrayList<>(vectors.subList(0, from));
            next();
            tokens = t;
            weights = w;
            vectors = v;
        }
    }
}
