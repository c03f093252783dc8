package dev.mdx.train.clip;

import dev.mdx.text.ClipPreTokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Learns a CLIP byte-level BPE vocabulary from text (Sennrich et al. 2016, in the byte-level form of GPT-2/CLIP).
 * Texts are pre-tokenised exactly as {@link dev.mdx.text.ClipTokenizer} does ({@link ClipPreTokenizer}); each word
 * starts as its byte symbols with {@code </w>} glued to the last one. Repeatedly the most frequent adjacent pair
 * (counted over word occurrences) is merged, until the vocabulary reaches its target size or no pair occurs at
 * least {@code minFrequency} times. Ties go to the lexicographically smallest pair, so the result depends only
 * on the multiset of words. Every byte symbol, with and without {@code </w>}, is in the vocabulary, so any text
 * encodes without an unknown token.
 */
public final class BpeTrainer {
    /** 256 byte symbols, the same 256 with {@code </w>}, and the two special tokens. */
    public static final int MIN_VOCAB_SIZE = 2 * 256 + 2;

    private record Pair(String left, String right) {}

    private final int vocabSize;
    private final int minFrequency;

    /**
     * @param vocabSize target size including the byte symbols and the two special tokens
     * @param minFrequency a pair must occur at least this often to be merged
     */
    public BpeTrainer(int vocabSize, int minFrequency) {
        if (vocabSize < MIN_VOCAB_SIZE) {
            throw new IllegalArgumentException("vocab_size must be at least " + MIN_VOCAB_SIZE
                    + " (256 byte symbols, 256 end-of-word byte symbols and 2 special tokens), got " + vocabSize);
        }
        if (minFrequency < 1) {
            throw new IllegalArgumentException("min_frequency must be at least 1, got " + minFrequency);
        }
        this.vocabSize = vocabSize;
        this.minFrequency = minFrequency;
    }

    public BpeVocabulary train(Iterable<String> texts) {
        // sorted, so word numbering (and with it every later step) is independent of the input order
        Map<String, Long> wordCounts = new TreeMap<>();
        for (String text : texts) {
            for (String word : ClipPreTokenizer.words(text)) {
                if (!word.equals(BpeVocabulary.START_OF_TEXT) && !word.equals(BpeVocabulary.END_OF_TEXT)) {
                    wordCounts.merge(word, 1L, Long::sum);
                }
            }
        }
        List<List<String>> words = new ArrayList<>(wordCounts.size());
        long[] freq = new long[wordCounts.size()];
        int w = 0;
        for (Map.Entry<String, Long> e : wordCounts.entrySet()) {
            words.add(initialSymbols(e.getKey()));
            freq[w++] = e.getValue();
        }

        List<String> tokens = new ArrayList<>();
        List<String> alphabet = ClipPreTokenizer.alphabet();
        tokens.addAll(alphabet);
        alphabet.forEach(s -> tokens.add(s + ClipPreTokenizer.END_OF_WORD));
        Set<String> known = new HashSet<>(tokens);

        Map<Pair, Long> pairCounts = new HashMap<>();
        Map<Pair, Set<Integer>> wordsWithPair = new HashMap<>();
        for (int i = 0; i < words.size(); i++) {
            addPairs(i, words.get(i), freq[i], pairCounts, wordsWithPair);
        }

        List<BpeVocabulary.Merge> merges = new ArrayList<>();
        while (tokens.size() + 2 < vocabSize) {
            Pair best = mostFrequent(pairCounts);
            if (best == null || pairCounts.get(best) < minFrequency) {
                break;
            }
            merges.add(new BpeVocabulary.Merge(best.left(), best.right()));
            String merged = best.left() + best.right();
            if (known.add(merged)) {
                tokens.add(merged);
            }
            for (int i : new ArrayList<>(wordsWithPair.get(best))) {
                List<String> before = words.get(i);
                removePairs(i, before, freq[i], pairCounts, wordsWithPair);
                List<String> after = applyMerge(before, best);
                words.set(i, after);
                addPairs(i, after, freq[i], pairCounts, wordsWithPair);
            }
        }
        tokens.add(BpeVocabulary.START_OF_TEXT);
        tokens.add(BpeVocabulary.END_OF_TEXT);
        return new BpeVocabulary(tokens, merges);
    }

    /** The word's byte symbols, {@code </w>} glued to the last, as {@code BytePairEncoder} starts. */
    private static List<String> initialSymbols(String word) {
        List<String> symbols = new ArrayList<>(word.length());
        for (int i = 0; i < word.length() - 1; i++) {
            symbols.add(String.valueOf(word.charAt(i)));
        }
        symbols.add(word.charAt(word.length() - 1) + ClipPreTokenizer.END_OF_WORD);
        return symbols;
    }

    /** Highest count; among equal counts the smallest (left, right). */
    private static Pair mostFrequent(Map<Pair, Long> pairCounts) {
        Pair best = null;
        long bestCount = 0;
        for (Map.Entry<Pair, Long> e : pairCounts.entrySet()) {
            long c = e.getValue();
            Pair p = e.getKey();
            if (c > bestCount || (c == bestCount && best != null && smaller(p, best))) {
                best = p;
                bestCount = c;
            }
        }
        return best;
    }

    private static boolean smaller(Pair a, Pair b) {
        int c = a.left().compareTo(b.left());
        return c < 0 || (c == 0 && a.right().compareTo(b.right()) < 0);
    }

    /** Every non-overlapping occurrence, left to right, as the encoder applies a merge. */
    private static List<String> applyMerge(List<String> symbols, Pair pair) {
        List<String> out = new ArrayList<>(symbols.size());
        int i = 0;
        while (i < symbols.size()) {
            if (i < symbols.size() - 1 && symbols.get(i).equals(pair.left())
                    && symbols.get(i + 1).equals(pair.right())) {
                out.add(pair.left() + pair.right());
                i += 2;
            } else {
                out.add(symbols.get(i));
                i++;
            }
        }
        return out;
    }

    private static void addPairs(int word, List<String> symbols, long count, Map<Pair, Long> pairCounts,
            Map<Pair, Set<Integer>> wordsWithPair) {
        for (int i = 0; i < symbols.size() - 1; i++) {
            Pair p = new Pair(symbols.get(i), symbols.get(i + 1));
            pairCounts.merge(p, count, Long::sum);
            wordsWithPair.computeIfAbsent(p, k -> new LinkedHashSet<>()).add(word);
        }
    }

    private static void removePairs(int word, List<String> symbols, long count, Map<Pair, Long> pairCounts,
            Map<Pair, Set<Integer>> wordsWithPair) {
        for (int i = 0; i < symbols.size() - 1; i++) {
            Pair p = new Pair(symbols.get(i), symbols.get(i + 1));
            long left = pairCounts.merge(p, -count, Long::sum);
            if (left <= 0) {
                pairCounts.remove(p);
                wordsWithPair.remove(p);
            } else {
                wordsWithPair.get(p).remove(word);
            }
        }
    }
}
