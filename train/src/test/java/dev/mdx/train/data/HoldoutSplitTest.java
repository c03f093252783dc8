package dev.mdx.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HoldoutSplitTest {
    private static final List<String> STYLES = List.of("noto", "twemoji", "fluent", "openmoji");

    private static List<String> fakeHexcodes(int n) {
        List<String> codes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            codes.add(Integer.toHexString(0x1F300 + i).toUpperCase());
        }
        return codes;
    }

    @Test
    void holdsOutAboutTheRequestedFractionsWithEveryStyleOfAHeldOutEmoji() {
        HoldoutSplit split = new HoldoutSplit(0, 0.05, 0.03);
        List<String> codes = fakeHexcodes(4000);
        int emoji = 0;
        int pairs = 0;
        for (String code : codes) {
            HoldoutSplit.Holdout first = split.holdout(code, STYLES.get(0));
            if (first == HoldoutSplit.Holdout.EMOJI) {
                emoji++;
                for (String style : STYLES) {
                    assertEquals(HoldoutSplit.Holdout.EMOJI, split.holdout(code, style), code + " " + style);
                    assertEquals(DatasetItem.TEST, split.split(code, style));
                }
            }
            for (String style : STYLES) {
                if (split.holdout(code, style) == HoldoutSplit.Holdout.PAIR) {
                    pairs++;
                }
            }
        }
        double emojiRate = emoji / (double) codes.size();
        double pairRate = pairs / (double) (codes.size() * STYLES.size());
        assertTrue(emojiRate > 0.04 && emojiRate < 0.06, "emoji hold-out rate " + emojiRate);
        assertTrue(pairRate > 0.022 && pairRate < 0.036, "pair hold-out rate " + pairRate);
    }

    @Test
    void isDeterministicAndDependsOnTheSeed() {
        List<String> codes = fakeHexcodes(1000);
        List<String> a = heldOut(new HoldoutSplit(3, 0.05, 0.03), codes);
        assertEquals(a, heldOut(new HoldoutSplit(3, 0.05, 0.03), codes));
        assertNotEquals(a, heldOut(new HoldoutSplit(4, 0.05, 0.03), codes));
        assertEquals(HoldoutSplit.Holdout.EMOJI, new HoldoutSplit(3, 0.05, 0.03).holdout(a.get(0).toLowerCase() + "-FE0F", "noto"),
                "FE0F and case do not change the decision");
    }

    @Test
    void rejectsBadFractions() {
        assertThrows(IllegalArgumentException.class, () -> new HoldoutSplit(0, 1.5, 0));
        assertThrows(IllegalArgumentException.class, () -> new HoldoutSplit(0, 0, Double.NaN));
    }

    private static List<String> heldOut(HoldoutSplit split, List<String> codes) {
        return codes.stream().filter(c -> split.holdout(c, "noto") == HoldoutSplit.Holdout.EMOJI).toList();
    }
}
