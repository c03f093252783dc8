package dev.mdx.train.clip;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Caption noise for the contrastive stage: with a given probability a caption gets one made-up word (3 to 10 random
 * lowercase letters) at a random word boundary. A small CLIP's tokenizer learns its vocabulary from the captions, so
 * a word users type that no caption has ("low resolution", "someone's") reaches the text tower as sub-word pieces in
 * an order it never saw; made-up words teach the tower that such pieces do not change what a caption shows. They are
 * added per batch, never to the tokenizer's training text.
 */
public final class FillerWords {
    private static final int MIN_LETTERS = 3;
    private static final int MAX_LETTERS = 10;

    private FillerWords() {}

    /** The captions, each given a made-up word with {@code probability}; the same seed gives the same result. */
    public static List<String> insert(List<String> captions, double probability, long seed) {
        if (!(probability >= 0 && probability <= 1)) {
            throw new IllegalArgumentException("filler word probability must be in [0, 1], got " + probability);
        }
        SplittableRandom random = new SplittableRandom(seed);
        List<String> out = new ArrayList<>(captions.size());
        for (String caption : captions) {
            out.add(random.nextDouble() < probability ? withWord(caption, random) : caption);
        }
        return out;
    }

    private static String withWord(String caption, SplittableRandom random) {
        StringBuilder word = new StringBuilder();
        int letters = random.nextInt(MIN_LETTERS, MAX_LETTERS + 1);
        for (int i = 0; i < letters; i++) {
            word.append((char) ('a' + random.nextInt(26)));
        }
        List<String> words = new ArrayList<>(List.of(caption.trim().split("\\s+")));
        if (words.size() == 1 && words.get(0).isEmpty()) {
            words.clear();
        }
        words.add(random.nextInt(words.size() + 1), word.toString());
        return String.join(" ", words);
    }
}
