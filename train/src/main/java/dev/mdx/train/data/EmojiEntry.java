package dev.mdx.train.data;

import java.util.List;

/**
 * One emoji from emojibase: a base emoji or one of its skin-tone variants. {@code baseHexcode} is the same for a
 * base emoji and all its variants, so a split can hold out an emoji with every tone. Tags are the base emoji's.
 */
public record EmojiEntry(String hexcode, String baseHexcode, String label, String baseLabel, List<String> tags,
        List<Integer> tones, int order) {

    public EmojiEntry {
        tags = List.copyOf(tags);
        tones = List.copyOf(tones);
    }

    public boolean isSkinToneVariant() {
        return !tones.isEmpty();
    }
}
