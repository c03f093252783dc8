package dev.mdx.train.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Captions for one emoji in one style. The first is canonical ("fox, twemoji style"; a skin-tone variant keeps its
 * tone: "waving hand: medium skin tone, noto style"); variants add up to {@value #MAX_TAGS} of emojibase's tags
 * (chosen by a stable hash, skipping words already in the label) or name the style differently.
 */
public final class EmojiCaptions {
    static final int MAX_TAGS = 3;

    private EmojiCaptions() {}

    public static List<String> captions(EmojiEntry emoji, String style) {
        String label = emoji.label();
        List<String> captions = new ArrayList<>();
        captions.add(label + ", " + style + " style");
        List<String> tags = pickTags(emoji, style);
        if (!tags.isEmpty()) {
            captions.add(label + ", " + String.join(", ", tags) + ", " + style + " style");
        }
        captions.add(label + ", " + style + " emoji");
        return captions;
    }

    static List<String> pickTags(EmojiEntry emoji, String style) {
        Set<String> labelWords = new HashSet<>(Arrays.asList(emoji.label().toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")));
        return emoji.tags().stream()
                .filter(t -> !t.isBlank() && !labelWords.contains(t.toLowerCase(Locale.ROOT)))
                .distinct()
                .sorted(Comparator.comparingLong(t -> StableHash.of(0, emoji.hexcode(), style, t)))
                .limit(MAX_TAGS)
                .toList();
    }
}
