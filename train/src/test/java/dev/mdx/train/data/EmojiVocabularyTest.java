package dev.mdx.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EmojiVocabularyTest {
    private static final EmojiEntry FOX = EmojiCaptionsTest.FOX;
    private static final EmojiEntry WAVE_MEDIUM = EmojiCaptionsTest.WAVE_MEDIUM;

    @Test
    void captionsAddLabelShortcodesAndKeywordsAfterTheV1Ones() {
        List<String> captions = EmojiVocabulary.captions(FOX, "noto", List.of("fox_face", "fox"));
        assertEquals(EmojiCaptions.captions(FOX, "noto"), captions.subList(0, EmojiCaptions.captions(FOX, "noto").size()));
        assertTrue(captions.containsAll(List.of("fox", "a fox", "fox emoji", "fox face", "fox face, noto style")), captions.toString());
        assertEquals(1, captions.stream().filter(c -> c.equals("fox")).count(), "a shortcode equal to the label is not repeated");
        String keywords = captions.get(captions.size() - 1);
        assertTrue(Set.of("face", "fox", "animal").containsAll(List.of(keywords.split(", "))), keywords);
        assertEquals("an emoji of an apple", "an emoji of " + EmojiVocabulary.withArticle("apple"));
    }

    @Test
    void aSkinToneVariantKeepsItsToneInShortcodeCaptions() {
        List<String> names = EmojiVocabulary.names(WAVE_MEDIUM, List.of("wave", "waving_hand", "hand-wave", "wave"));
        assertEquals(EmojiVocabulary.MAX_SHORTCODES, names.size());
        for (String n : names) {
            assertTrue(n.endsWith(": medium skin tone"), n);
            assertTrue(!n.startsWith("waving hand:"), "the label itself is not a shortcode caption: " + n);
        }
    }

    @Test
    void heldOutPromptsNameTheLabelAndEachStyle() {
        List<HeldOutPrompt> prompts = EmojiVocabulary.heldOutPrompts(FOX, 4, List.of("noto", "twemoji"));
        assertEquals(EmojiVocabulary.HELD_OUT_PLAIN.size() + 2 * EmojiVocabulary.HELD_OUT_STYLED.size(), prompts.size());
        assertTrue(prompts.contains(new HeldOutPrompt("fox icon", "fox", 4, null)));
        assertTrue(prompts.contains(new HeldOutPrompt("the fox emoji in twemoji style", "fox", 4, "twemoji")));
        Set<String> captions = Set.copyOf(EmojiVocabulary.captions(FOX, "noto", List.of("fox_face")));
        prompts.forEach(p -> assertTrue(!captions.contains(p.prompt()), p.prompt()));
    }

    @Test
    void shortcodeFilesMapHexcodesToOneOrManyCodes() {
        Map<String, List<String>> codes = Emojibase.parseShortcodes("t", "{\"1f44b\":[\"wave\",\"waving_hand\"],\"1F98A\":\"fox_face\"}"
                .getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of("wave", "waving_hand"), codes.get("1F44B"));
        assertEquals(List.of("fox_face"), codes.get("1F98A"));
        assertThrows(DatasetException.class, () -> Emojibase.parseShortcodes("t", "[1]".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void writingRefusesAHeldOutPromptThatIsATrainingCaption(@org.junit.jupiter.api.io.TempDir Path tmp) {
        DatasetException e = assertThrows(DatasetException.class, () -> HeldOutPrompts.write(tmp,
                List.of(new HeldOutPrompt("fox icon", "fox", 0, null)), Set.of("fox icon")));
        assertTrue(e.getMessage().contains("fox icon"), e.getMessage());
        HeldOutPrompts.write(tmp, List.of(new HeldOutPrompt("fox icon", "fox", 0, null),
                new HeldOutPrompt("fox (noto)", "fox", 0, "noto")), Set.of());
        assertEquals(List.of(new HeldOutPrompt("fox icon", "fox", 0, null), new HeldOutPrompt("fox (noto)", "fox", 0, "noto")),
                HeldOutPrompts.read(tmp));
    }
}
