package dev.mdx.train.data;

import java.util.Locale;

/**
 * Which captions a build writes. V1: the original templates (the shipped models were trained on them). V2: the words
 * users type (synonyms, singular and plural, regional names; for emoji also emojibase's shortcodes and keywords) and a
 * held-out paraphrase list ({@link HeldOutPrompts}). V3 (Fashion-MNIST only): v2's words in three times as many sentence
 * frames ({@link FashionVocabulary#MORE_TRAIN_TEMPLATES}), since the v2 models missed held-out frames, not words; the
 * held-out paraphrases are v2's. The canonical caption is the same in all.
 */
public enum CaptionSet {
    V1, V2, V3;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static CaptionSet parse(String s) {
        for (CaptionSet c : values()) {
            if (c.id().equalsIgnoreCase(s)) {
                return c;
            }
        }
        throw new IllegalArgumentException("caption set must be v1, v2 or v3, got '" + s + "'");
    }
}
