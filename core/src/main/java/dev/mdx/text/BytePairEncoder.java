package dev.mdx.text;

import dev.mdx.io.ModelFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CLIP's byte-level BPE over one pre-tokenised word: the word's alphabet characters, with {@code </w>} glued to
 * the last, are merged pair by pair, always the pair with the lowest merge rank first, until no adjacent pair
 * has a rank. Results are cached (bounded, least recently used first out) because prompts repeat words.
 */
final class BytePairEncoder {
    static final String END_OF_WORD = "</w>";
    private static final int CACHE_ENTRIES = 50_000;

    /** Rank of each merge, keyed "left right" (alphabet symbols never contain a space). */
    private final Map<String, Integer> ranks;
    /** Words the reference returns unchanged (its hard-coded cache entries for the CLIP special tokens). */
    private final List<String> verbatim;
    private final Map<String, List<String>> cache = Collections.synchronizedMap(
            new LinkedHashMap<>(1024, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, List<String>> eldest) {
                    return size() > CACHE_ENTRIES;
                }
            });

    BytePairEncoder(Map<String, Integer> ranks, List<String> verbatim) {
        this.ranks = Map.copyOf(ranks);
        this.verbatim = List.copyOf(verbatim);
    }

    /**
     * Reads merges.txt: one merge "left right" per line in rank order. A first line starting with '#' is the
     * version header; blank lines are skipped. A merge listed twice keeps its later rank, as in the reference.
     */
    static Map<String, Integer> readMerges(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file + ": file not found");
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
        Map<String, Integer> ranks = new HashMap<>(lines.size() * 2);
        int rank = 0;
        for (int i = 0; i < lines.size(); i++) {
            String line = PythonText.strip(lines.get(i));
            if (line.isEmpty() || (i == 0 && line.startsWith("#"))) {
                continue;
            }
            List<String> parts = PythonText.split(line);
            if (parts.size() != 2) {
                throw new ModelFormatException(file + ": line " + (i + 1) + " is not a merge of two symbols: '"
                        + line + "'");
            }
            ranks.put(parts.get(0) + " " + parts.get(1), rank++);
        }
        return ranks;
    }

    int mergeCount() {
        return ranks.size();
    }

    /** BPE symbols of one word given in alphabet characters (non-empty). */
    List<String> encode(String word) {
        if (verbatim.contains(word)) {
            return List.of(word);
        }
        List<String> cached = cache.get(word);
        if (cached != null) {
            return cached;
        }
        List<String> result = List.copyOf(merge(word));
        cache.put(word, result);
        return result;
    }

    private List<String> merge(String word) {
        List<String> symbols = new ArrayList<>(word.length());
        for (int i = 0; i < word.length() - 1; i++) {
            symbols.add(String.valueOf(word.charAt(i)));
        }
        symbols.add(word.charAt(word.length() - 1) + END_OF_WORD);
        while (symbols.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            String first = null;
            String second = null;
            for (int i = 0; i < symbols.size() - 1; i++) {
                Integer r = ranks.get(symbols.get(i) + " " + symbols.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    first = symbols.get(i);
                    second = symbols.get(i + 1);
                }
            }
            if (first == null) {
                break;
            }
            List<String> merged = new ArrayList<>(symbols.size());
            int i = 0;
            while (i < symbols.size()) {
                if (i < symbols.size() - 1 && symbols.get(i).equals(first) && symbols.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i += 2;
                } else {
                    merged.add(symbols.get(i));
                    i++;
                }
            }
            symbols = merged;
        }
        return symbols;
    }
}
