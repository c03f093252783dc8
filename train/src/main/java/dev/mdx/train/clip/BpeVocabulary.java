package dev.mdx.train.clip;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A learned CLIP byte-level BPE vocabulary: tokens in id order (the 256 byte symbols, the same with {@code </w>},
 * one token per new merge result, then {@code <|startoftext|>} and {@code <|endoftext|>}, as in CLIP's own
 * vocabulary) and the merges in rank order.
 *
 * @param tokens every token, its index is its id
 * @param merges merges in rank order (the order they were learned)
 */
public record BpeVocabulary(List<String> tokens, List<Merge> merges) {
    public static final String START_OF_TEXT = "<|startoftext|>";
    public static final String END_OF_TEXT = "<|endoftext|>";

    /** One merge: two adjacent symbols become their concatenation. Symbols never contain whitespace. */
    public record Merge(String left, String right) {
        public Merge {
            if (left.isEmpty() || right.isEmpty() || hasSpace(left) || hasSpace(right)) {
                throw new IllegalArgumentException("merge symbols must be non-empty without whitespace: '"
                        + left + "' '" + right + "'");
            }
        }

        public String merged() {
            return left + right;
        }

        private static boolean hasSpace(String s) {
            return s.chars().anyMatch(Character::isWhitespace);
        }
    }

    public BpeVocabulary {
        tokens = List.copyOf(tokens);
        merges = List.copyOf(merges);
        Set<String> seen = new HashSet<>();
        for (String t : tokens) {
            if (!seen.add(t)) {
                throw new IllegalArgumentException("token '" + t + "' appears twice");
            }
        }
        for (Merge m : merges) {
            if (!seen.contains(m.merged())) {
                throw new IllegalArgumentException("merge result '" + m.merged() + "' is not a token");
            }
        }
        if (!seen.contains(START_OF_TEXT) || !seen.contains(END_OF_TEXT)) {
            throw new IllegalArgumentException("the vocabulary lacks " + START_OF_TEXT + " or " + END_OF_TEXT);
        }
    }

    public int size() {
        return tokens.size();
    }

    /** token -> id. */
    public Map<String, Integer> ids() {
        Map<String, Integer> out = new HashMap<>(tokens.size() * 2);
        for (int i = 0; i < tokens.size(); i++) {
            out.put(tokens.get(i), i);
        }
        return out;
    }

    public int id(String token) {
        int id = tokens.indexOf(token);
        if (id < 0) {
            throw new IllegalArgumentException("'" + token + "' is not in the vocabulary");
        }
        return id;
    }
}
