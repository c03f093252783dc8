package dev.mdx.train.data;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Emoji captions in the words users type (caption set v2): besides v1's captions, the bare label ("fox", "a fox",
 * "fox emoji"), emojibase's shortcodes as words ("thumbsup", "+1"; a skin-tone variant adds its tone) and keyword
 * lists from emojibase's tags ("animal, face"). The held-out paraphrases use templates no caption uses.
 */
public final class EmojiVocabulary {
    static final int MAX_SHORTCODES = 2;
    static final int MAX_KEYWORDS = 3;
    /** Held-out templates without a style ({l}: label, {a}: label with article) and with one ({s}: style). */
    static final List<String> HELD_OUT_PLAIN = List.of("{l} icon", "an emoji of {a}");
    static final List<String> HELD_OUT_STYLED = List.of("the {l} emoji in {s} style", "{l} ({s})");

    private EmojiVocabulary() {}

    /** The captions of one emoji in one style, canonical first; {@code shortcodes} are emojibase's, as written there. */
    public static List<String> captions(EmojiEntry emoji, String style, List<String> shortcodes) {
        String label = emoji.label();
        Set<String> out = new LinkedHashSet<>(EmojiCaptions.captions(emoji, style));
        out.add(label);
        out.add(withArticle(label));
        out.add(label + " emoji");
        for (String name : names(emoji, shortcodes)) {
            out.add(name);
            out.add(name + ", " + style + " style");
        }
        List<String> keywords = keywords(emoji, style);
        if (!keywords.isEmpty()) {
            out.add(String.join(", ", keywords));
        }
        return List.copyOf(out);
    }

    /** Up to {@value #MAX_SHORTCODES} shortcodes as words ("thumbs_up" -> "thumbs up"), not repeating the label. */
    static List<String> names(EmojiEntry emoji, List<String> shortcodes) {
        String tone = emoji.isSkinToneVariant() && emoji.label().contains(": ")
                ? emoji.label().substring(emoji.label().indexOf(": ")) : "";
        String base = emoji.baseLabel().toLowerCase(Locale.ROOT);
        return shortcodes.stream()
                .map(s -> s.replace('_', ' ').replace('-', ' ').trim())
                .filter(s -> !s.isEmpty() && !s.equalsIgnoreCase(base))
                .distinct()
                .sorted(Comparator.comparingLong(s -> StableHash.of(1, emoji.hexcode(), s)))
                .limit(MAX_SHORTCODES)
                .map(s -> s + tone)
                .toList();
    }

    /** Up to {@value #MAX_KEYWORDS} of emojibase's tags, label words included, chosen per style by a stable hash. */
    static List<String> keywords(EmojiEntry emoji, String style) {
        return emoji.tags().stream()
                .filter(t -> !t.isBlank())
                .distinct()
                .sorted(Comparator.comparingLong(t -> StableHash.of(2, emoji.hexcode(), style, t)))
                .limit(MAX_KEYWORDS)
                .toList();
    }

    static String withArticle(String phrase) {
        char c = Character.toLowerCase(phrase.charAt(0));
        return ("aeiou".indexOf(c) >= 0 ? "an " : "a ") + phrase;
    }

    /** The held-out paraphrases of one emoji: the plain templates, and the styled ones for each of its styles. */
    static List<HeldOutPrompt> heldOutPrompts(EmojiEntry emoji, int classId, List<String> styles) {
        List<HeldOutPrompt> out = new ArrayList<>();
        for (String t : HELD_OUT_PLAIN) {
            out.add(new HeldOutPrompt(fill(t, emoji.label(), null), emoji.label(), classId, null));
        }
        for (String style : styles) {
            for (String t : HELD_OUT_STYLED) {
                out.add(new HeldOutPrompt(fill(t, emoji.label(), style), emoji.label(), classId, style));
            }
        }
        return out;
    }

    private static String fill(String template, String label, String style) {
        String s = template.replace("{l}", label).replace("{a}", withArticle(label));
        return style == null ? s : s.replace("{s}", style);
    }
}
