package dev.mdx.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FashionVocabularyTest {
    private static boolean poolHas(int classId, String caption) {
        return FashionVocabulary.pool(classId).contains(caption);
    }

    @Test
    void poolsHoldTheWordsUsersType() {
        for (String c : List.of("a photo of a trouser", "a photo of a pair of pants", "jeans", "a photo of a pair of slacks",
                "trousers")) {
            assertTrue(poolHas(1, c), c);
        }
        assertTrue(poolHas(7, "a photo of a pair of trainers"));
        assertTrue(poolHas(7, "a photo of a running shoe"));
        assertTrue(poolHas(7, "sneakers"));
        assertTrue(poolHas(8, "a photo of a handbag"));
        assertTrue(poolHas(8, "purse"));
        assertTrue(poolHas(2, "a photo of a sweater"));
        assertTrue(poolHas(2, "a photo of a jumper"));
        assertTrue(poolHas(0, "a photo of a tee"));
        assertTrue(poolHas(0, "a photo of a top"));
        assertTrue(poolHas(9, "ankle boots"));
    }

    @Test
    void canonicalCaptionIsUnchangedAndEachNounNamesOneClass() {
        Map<String, Integer> owner = new HashMap<>();
        for (int c = 0; c < FashionCaptions.CLASS_NAMES.size(); c++) {
            assertEquals(FashionCaptions.captions(c).get(0), FashionVocabulary.pool(c).get(0));
            assertEquals(FashionCaptions.captions(c).get(0), FashionVocabulary.captions(c, "train/" + c).get(0));
            for (FashionVocabulary.Noun n : FashionVocabulary.nounsOf(c)) {
                Integer before = owner.put(n.bare(), c);
                assertTrue(before == null || before == c, n.bare() + " names classes " + before + " and " + c);
            }
        }
    }

    @Test
    void itemCaptionsAreDistinctStableAndCoverThePool() {
        List<String> pool = FashionVocabulary.pool(1);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 3000; i++) {
            List<String> captions = FashionVocabulary.captions(1, "train/" + i);
            assertEquals(1 + FashionVocabulary.VARIANTS_PER_ITEM, captions.size());
            assertEquals(captions.size(), new HashSet<>(captions).size(), "distinct");
            assertTrue(pool.containsAll(captions));
            seen.addAll(captions);
        }
        assertEquals(FashionVocabulary.captions(1, "train/7"), FashionVocabulary.captions(1, "train/7"));
        assertFalse(FashionVocabulary.captions(1, "train/7").equals(FashionVocabulary.captions(1, "train/8")));
        assertEquals(new HashSet<>(pool), seen, "3,000 items of a class use every caption of its pool");
    }

    @Test
    void heldOutParaphrasesAreNoTrainingCaptionAndCoverEveryNoun() {
        Set<String> all = new HashSet<>();
        for (int c = 0; c < FashionCaptions.CLASS_NAMES.size(); c++) {
            all.addAll(FashionVocabulary.pool(c));
        }
        List<HeldOutPrompt> prompts = FashionVocabulary.heldOutPrompts();
        int expected = 0;
        for (int c = 0; c < FashionCaptions.CLASS_NAMES.size(); c++) {
            expected += FashionVocabulary.HELD_OUT_TEMPLATES.size() * FashionVocabulary.nounsOf(c).size();
        }
        assertEquals(expected, prompts.size());
        for (HeldOutPrompt p : prompts) {
            assertFalse(all.contains(p.prompt()), p.prompt());
            assertEquals(FashionCaptions.CLASS_NAMES.get(p.classId()), p.label());
        }
        assertTrue(prompts.contains(new HeldOutPrompt("a close-up photo of a pair of jeans", "Trouser", 1, null)));
    }

    /** v3 adds sentence frames, none of them held out; v2's pool is unchanged by it. */
    @Test
    void captionSetV3AddsFramesButNoHeldOutOne() {
        for (int c = 0; c < FashionCaptions.CLASS_NAMES.size(); c++) {
            List<String> v2 = FashionVocabulary.pool(c);
            List<String> v3 = FashionVocabulary.pool(c, CaptionSet.V3);
            assertEquals(v2, FashionVocabulary.pool(c, CaptionSet.V2));
            assertTrue(v3.containsAll(v2), "v3 keeps every v2 caption");
            assertTrue(v3.size() >= 3 * v2.size(), c + ": " + v3.size() + " against " + v2.size());
            assertEquals(v2.get(0), v3.get(0), "the canonical caption");
            assertEquals(v3.get(0), FashionVocabulary.captions(c, "train/3", CaptionSet.V3).get(0));
        }
        Set<String> heldOut = new HashSet<>();
        FashionVocabulary.heldOutPrompts().forEach(p -> heldOut.add(p.prompt()));
        for (int c = 0; c < FashionCaptions.CLASS_NAMES.size(); c++) {
            for (String caption : FashionVocabulary.pool(c, CaptionSet.V3)) {
                assertFalse(heldOut.contains(caption), "held-out prompt in the v3 pool: " + caption);
            }
        }
        for (String t : FashionVocabulary.MORE_TRAIN_TEMPLATES) {
            assertFalse(FashionVocabulary.HELD_OUT_TEMPLATES.contains(t), t);
            assertFalse(FashionVocabulary.TRAIN_TEMPLATES.contains(t), "already in v2: " + t);
        }
    }
}
