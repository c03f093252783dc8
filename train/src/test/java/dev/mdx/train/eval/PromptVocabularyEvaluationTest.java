package dev.mdx.train.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mdx.train.clip.Retrieval;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.HeldOutPrompt;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The prompt-accuracy half of {@link PromptVocabularyEvaluation} with hand-made embeddings. */
class PromptVocabularyEvaluationTest {
    @Test
    void prototypesAreSumsOfUnitImageEmbeddingsPerLabel() {
        Map<String, Integer> index = new LinkedHashMap<>();
        float[][] p = PromptVocabularyEvaluation.prototypes(List.of("fox", "cat", "fox"),
                new float[][] {{3, 0}, {0, 5}, {0, 2}}, index);
        assertEquals(Map.of("fox", 0, "cat", 1), index);
        assertArrayEquals(new float[] {1, 1}, p[0], 1e-6f);   // (1, 0) + (0, 1): scale does not count
        assertArrayEquals(new float[] {0, 1}, p[1], 1e-6f);
    }

    @Test
    void promptsAreTheItemsCanonicalCaptionsAndTheirLabelsParaphrasesInTheirStyle() {
        List<DatasetItem> items = List.of(
                new DatasetItem(0, "train", "fox", 0, "noto", List.of("fox, noto style", "fox"), "a", null),
                new DatasetItem(1, "train", "fox", 0, "noto", List.of("fox, noto style"), "b", null),
                new DatasetItem(2, "train", "owl", 2, "noto", List.of("owl, noto style"), "c", null),
                new DatasetItem(3, "train", "cat", 1, "twemoji", List.of("cat, twemoji style"), "d", null));
        List<HeldOutPrompt> paraphrases = List.of(
                new HeldOutPrompt("fox icon", "fox", 0, null),
                new HeldOutPrompt("fox (noto)", "fox", 0, "noto"),
                new HeldOutPrompt("fox (twemoji)", "fox", 0, "twemoji"),
                new HeldOutPrompt("cat (twemoji)", "cat", 1, "twemoji"),
                new HeldOutPrompt("owl icon", "owl", 2, null));
        // owl has no prototype (no train image in the sample): skipped on both sides
        var sets = PromptVocabularyEvaluation.promptSets(items, paraphrases, Map.of("fox", 0, "cat", 1));
        assertEquals(List.of("fox, noto style", "cat, twemoji style"), new ArrayList<>(sets.canonical().keySet()));
        assertEquals(Map.of("fox icon", 0, "fox (noto)", 0, "cat (twemoji)", 1), sets.paraphrased());
    }

    @Test
    void accuracyRanksEachPromptAmongThePrototypesAndListsTopOneMisses() {
        float[][] prototypes = new float[6][6];
        for (int i = 0; i < 6; i++) {
            prototypes[i][i] = 1;
        }
        List<String> labels = List.of("a", "b", "c", "d", "e", "f");
        float[][] prompts = {{2, 0, 0, 0, 0, 0}, {0, 0.4f, 0.9f, 0, 0, 0}, {-1, 0, 0, 0, 0, 1}};
        List<PromptVocabularyEvaluation.Miss> missed = new ArrayList<>();
        Retrieval.Accuracy a = PromptVocabularyEvaluation.accuracy(List.of("p0", "p1", "p2"), prompts,
                new int[] {0, 1, 0}, prototypes, labels, missed);
        assertEquals(1.0 / 3, a.top1(), 1e-12);
        assertEquals(2.0 / 3, a.top5(), 1e-12);
        assertEquals(List.of(new PromptVocabularyEvaluation.Miss("p1", "b", "c"),
                new PromptVocabularyEvaluation.Miss("p2", "a", "f")), missed);
        assertEquals(List.of(new PromptVocabularyEvaluation.LabelScore("a", 1, 2),
                new PromptVocabularyEvaluation.LabelScore("b", 0, 1)),
                PromptVocabularyEvaluation.byLabel(Map.of("p0", 0, "p1", 1, "p2", 0), missed, labels));
    }
}
