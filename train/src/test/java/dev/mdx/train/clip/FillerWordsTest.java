package dev.mdx.train.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FillerWordsTest {
    private static final List<String> CAPTIONS = Collections.nCopies(400, "a photo of a dress");

    @Test
    void everyCaptionKeepsItsWordsInOrderAndGainsOneMadeUpWord() {
        List<String> out = FillerWords.insert(CAPTIONS, 1.0, 7);
        Set<Integer> positions = new HashSet<>();
        for (String caption : out) {
            List<String> words = List.of(caption.split(" "));
            assertEquals(6, words.size(), caption);
            int added = -1;
            for (int i = 0; i < words.size() && added < 0; i++) {
                List<String> rest = new ArrayList<>(words);
                rest.remove(i);
                if (String.join(" ", rest).equals(CAPTIONS.get(0)) && words.get(i).matches("[a-z]{3,10}")) {
                    added = i;
                }
            }
            assertTrue(added >= 0, "not the caption plus one made-up word: " + caption);
            positions.add(added);
        }
        // the word lands at every boundary, before the first word and after the last included
        assertTrue(positions.containsAll(Set.of(0, 1, 2, 3, 4, 5)), positions.toString());
    }

    @Test
    void theProbabilityIsTheShareOfCaptionsChangedAndTheSeedFixesTheResult() {
        long changed = FillerWords.insert(CAPTIONS, 0.25, 3).stream().filter(c -> !c.equals(CAPTIONS.get(0))).count();
        assertTrue(changed > 60 && changed < 140, "changed " + changed + " of 400");
        assertEquals(CAPTIONS, FillerWords.insert(CAPTIONS, 0, 3));
        assertEquals(FillerWords.insert(CAPTIONS, 0.5, 11), FillerWords.insert(CAPTIONS, 0.5, 11));
        assertNotEquals(FillerWords.insert(CAPTIONS, 0.5, 11), FillerWords.insert(CAPTIONS, 0.5, 12));
        assertTrue(FillerWords.insert(List.of(""), 1, 1).get(0).matches("[a-z]{3,10}"));
        assertThrows(IllegalArgumentException.class, () -> FillerWords.insert(CAPTIONS, 1.5, 1));
    }
}
