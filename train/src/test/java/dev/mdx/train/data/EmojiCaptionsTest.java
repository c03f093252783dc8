package dev.mdx.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class EmojiCaptionsTest {
    static final EmojiEntry FOX = new EmojiEntry("1F98A", "1F98A", "fox", "fox", List.of("face", "fox", "animal"), List.of(), 1);
    static final EmojiEntry WAVE_MEDIUM = new EmojiEntry("1F44B-1F3FD", "1F44B", "waving hand: medium skin tone",
            "waving hand", List.of("bye", "hand", "hello", "hey", "hi", "wave", "waving"), List.of(3), 2);

    @Test
    void canonicalCaptionIsLabelAndStyle() {
        assertEquals("fox, twemoji style", EmojiCaptions.captions(FOX, "twemoji").get(0));
        assertEquals("waving hand: medium skin tone, noto style", EmojiCaptions.captions(WAVE_MEDIUM, "noto").get(0));
        assertEquals("fox, noto emoji", EmojiCaptions.captions(FOX, "noto").get(2));
    }

    @Test
    void tagVariantSkipsLabelWordsAndKeepsAtMostThreeTags() {
        List<String> foxTags = EmojiCaptions.pickTags(FOX, "noto");
        assertEquals(2, foxTags.size(), foxTags.toString());
        assertFalse(foxTags.contains("fox"));
        String variant = EmojiCaptions.captions(FOX, "noto").get(1);
        assertTrue(variant.startsWith("fox, ") && variant.endsWith(", noto style"), variant);

        List<String> waveTags = EmojiCaptions.pickTags(WAVE_MEDIUM, "openmoji");
        assertEquals(EmojiCaptions.MAX_TAGS, waveTags.size());
        assertFalse(waveTags.contains("hand") || waveTags.contains("waving"), waveTags.toString());
        assertEquals(waveTags, EmojiCaptions.pickTags(WAVE_MEDIUM, "openmoji"), "deterministic");
    }

    @Test
    void emojiWithoutUsefulTagsGetsNoTagVariant() {
        EmojiEntry plain = new EmojiEntry("1F5FB", "1F5FB", "mount fuji", "mount fuji", List.of("fuji", "mount"), List.of(), 3);
        assertEquals(List.of("mount fuji, fluent style", "mount fuji, fluent emoji"), EmojiCaptions.captions(plain, "fluent"));
    }

    @Test
    void fashionCaptionsUseTemplatesWithArticles() {
        List<String> sneaker = FashionCaptions.captions(7);
        assertEquals("a photo of a sneaker", sneaker.get(0));
        assertTrue(sneaker.containsAll(List.of("sneaker", "a sneaker", "a black and white photo of a sneaker")), sneaker.toString());
        assertTrue(FashionCaptions.captions(9).contains("a photo of an ankle boot"));
        assertTrue(FashionCaptions.captions(1).contains("a photo of a pair of trousers"));
        assertEquals("Sneaker", FashionCaptions.CLASS_NAMES.get(7));
    }
}
