package dev.mdx.train.eval;

import dev.mdx.train.clip.ClipScorer;
import dev.mdx.train.clip.Retrieval;
import dev.mdx.train.data.DataOrder;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.HeldOutPrompt;
import dev.mdx.train.data.ImageDataset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a small CLIP knows of the words users type, measured on real images only (no generator):
 *
 * <ul>
 * <li>the retrieval ceiling: real images' labels among all labels, as {@code mdx eval}'s "real" columns (same items,
 * same label texts);</li>
 * <li>prompt accuracy: each prompt's text embedding classified among label prototypes, the mean unit image embedding
 * of each label's real train images, for the canonical captions of the sampled held-in items and for the held-out
 * paraphrases of the same labels (and styles). A prompt the text tower places beside its label's images is one a
 * model conditioned on this text tower can follow.</li>
 * </ul>
 */
public final class PromptVocabularyEvaluation {
    /** A prompt whose label was not the nearest prototype, with the label that was. */
    public record Miss(String prompt, String label, String nearest) {}

    /** Top-1 hits of one label's prompts. */
    public record LabelScore(String label, int hits, int prompts) {}

    public record Report(Retrieval.Accuracy realHeldIn, Retrieval.Accuracy realHeldOut, Retrieval.Accuracy canonical,
            Retrieval.Accuracy paraphrases, int prototypeLabels, int prototypeImages, List<Miss> missed,
            List<LabelScore> paraphrasesByLabel) {}

    private static final int MAX_MISSES = 40;

    private PromptVocabularyEvaluation() {}

    /**
     * @param images held-in (and held-out) items sampled as {@code mdx eval --images} samples them
     * @param prototypeImages train images averaged into label prototypes, a seeded sample (0: all)
     */
    public static Report run(ClipScorer scorer, ImageDataset data, List<HeldOutPrompt> paraphrases, int images,
            int prototypeImages) {
        LabelSet labels = LabelSet.of(data);
        float[][] labelText = labels.embed(scorer, LabelSet.LabelText.CAPTIONS);
        int[] heldIn = DataOrder.sample(data.indices(DatasetItem.TRAIN), images, Evaluation.PROMPT_ORDER_SEED);
        int[] heldOut = DataOrder.sample(data.indices(DatasetItem.TEST), images, Evaluation.PROMPT_ORDER_SEED);
        Retrieval.Accuracy realIn = realAccuracy(scorer, data, labels, labelText, heldIn);
        Retrieval.Accuracy realOut = heldOut.length == 0 ? null : realAccuracy(scorer, data, labels, labelText, heldOut);

        int[] train = data.indices(DatasetItem.TRAIN);
        int[] protoItems = prototypeImages <= 0 || prototypeImages >= train.length ? train
                : DataOrder.sample(train, prototypeImages, Evaluation.PROMPT_ORDER_SEED + 2);
        Map<String, Integer> protoIndex = new LinkedHashMap<>();
        float[][] prototypes = prototypes(Arrays.stream(protoItems).mapToObj(data::label).toList(),
                embedImages(scorer, data, protoItems), protoIndex);
        List<String> protoLabels = new ArrayList<>(protoIndex.keySet());
        PromptSets sets = promptSets(Arrays.stream(heldIn).mapToObj(data::item).toList(), paraphrases, protoIndex);
        List<Miss> missed = new ArrayList<>();
        Retrieval.Accuracy canonicalAcc = promptAccuracy(scorer, sets.canonical(), prototypes, protoLabels,
                new ArrayList<>());
        Retrieval.Accuracy paraphraseAcc = promptAccuracy(scorer, sets.paraphrased(), prototypes, protoLabels, missed);
        return new Report(realIn, realOut, canonicalAcc, paraphraseAcc, prototypes.length, protoItems.length,
                missed.subList(0, Math.min(MAX_MISSES, missed.size())), byLabel(sets.paraphrased(), missed, protoLabels));
    }

    /** Distinct prompts with the prototype index of the label they name. */
    record PromptSets(Map<String, Integer> canonical, Map<String, Integer> paraphrased) {}

    /**
     * One prototype per label, in order of first appearance (filled into {@code index}): the sum of the label's unit
     * image embeddings, i.e. their mean direction.
     */
    static float[][] prototypes(List<String> labels, float[][] embeds, Map<String, Integer> index) {
        List<float[]> sums = new ArrayList<>();
        double[][] unit = Retrieval.unit(embeds);
        for (int i = 0; i < labels.size(); i++) {
            int p = index.computeIfAbsent(labels.get(i), k -> index.size());
            if (p == sums.size()) {
                sums.add(new float[unit[i].length]);
            }
            for (int d = 0; d < unit[i].length; d++) {
                sums.get(p)[d] += (float) unit[i][d];
            }
        }
        return sums.toArray(new float[0][]);
    }

    /**
     * The canonical caption of each sampled item, and the paraphrases of its label that ask for no style or for the
     * item's style; items whose label has no prototype are skipped.
     */
    static PromptSets promptSets(List<DatasetItem> items, List<HeldOutPrompt> paraphrases, Map<String, Integer> protoIndex) {
        Map<String, Integer> canonical = new LinkedHashMap<>();
        Map<String, Integer> paraphrased = new LinkedHashMap<>();
        Map<String, List<HeldOutPrompt>> byLabel = groupByLabel(paraphrases);
        for (DatasetItem it : items) {
            Integer truth = protoIndex.get(it.label());
            if (truth == null) {
                continue;
            }
            canonical.put(it.caption(), truth);
            paraphrasesOf(it, byLabel).forEach(p -> paraphrased.put(p.prompt(), truth));
        }
        return new PromptSets(canonical, paraphrased);
    }

    /** The held-out prompts by the label they name, in list order. */
    static Map<String, List<HeldOutPrompt>> groupByLabel(List<HeldOutPrompt> paraphrases) {
        Map<String, List<HeldOutPrompt>> byLabel = new LinkedHashMap<>();
        paraphrases.forEach(p -> byLabel.computeIfAbsent(p.label(), k -> new ArrayList<>()).add(p));
        return byLabel;
    }

    /** The paraphrases of an item's label that ask for no style or for the item's style. */
    static List<HeldOutPrompt> paraphrasesOf(DatasetItem item, Map<String, List<HeldOutPrompt>> byLabel) {
        return byLabel.getOrDefault(item.label(), List.of()).stream()
                .filter(p -> p.style() == null || p.style().equals(item.style())).toList();
    }

    private static Retrieval.Accuracy realAccuracy(ClipScorer scorer, ImageDataset data, LabelSet labels,
            float[][] labelText, int[] items) {
        int[] truth = Arrays.stream(items).map(i -> labels.indexOf(data.label(i))).toArray();
        return LabelSet.accuracy(embedImages(scorer, data, items), labelText, truth);
    }

    private static float[][] embedImages(ClipScorer scorer, ImageDataset data, int[] items) {
        return scorer.imageEmbeddings((scope, from, to) -> data.batch(scope, Arrays.copyOfRange(items, from, to)),
                items.length);
    }

    /** Per label (in prototype order, labels with prompts only): its prompts and their top-1 hits. */
    static List<LabelScore> byLabel(Map<String, Integer> prompts, List<Miss> missed, List<String> protoLabels) {
        int[] total = new int[protoLabels.size()];
        int[] misses = new int[protoLabels.size()];
        prompts.values().forEach(t -> total[t]++);
        Map<String, Integer> index = new LinkedHashMap<>();
        for (int i = 0; i < protoLabels.size(); i++) {
            index.put(protoLabels.get(i), i);
        }
        missed.forEach(m -> misses[index.get(m.label())]++);
        List<LabelScore> out = new ArrayList<>();
        for (int i = 0; i < total.length; i++) {
            if (total[i] > 0) {
                out.add(new LabelScore(protoLabels.get(i), total[i] - misses[i], total[i]));
            }
        }
        return out;
    }

    /** Top-1 / top-5 of each prompt's label among the prototypes; every top-1 miss goes to {@code missed}. */
    private static Retrieval.Accuracy promptAccuracy(ClipScorer scorer, Map<String, Integer> prompts,
            float[][] prototypes, List<String> protoLabels, List<Miss> missed) {
        List<String> texts = new ArrayList<>(prompts.keySet());
        int[] truth = texts.stream().mapToInt(prompts::get).toArray();
        return accuracy(texts, scorer.textEmbeddings(texts), truth, prototypes, protoLabels, missed);
    }

    static Retrieval.Accuracy accuracy(List<String> texts, float[][] textEmbeds, int[] truth, float[][] prototypes,
            List<String> protoLabels, List<Miss> missed) {
        double[][] scores = Retrieval.cosine(textEmbeds, prototypes);
        for (int q = 0; q < scores.length; q++) {
            int best = 0;
            for (int c = 1; c < scores[q].length; c++) {
                best = scores[q][c] > scores[q][best] ? c : best;
            }
            if (best != truth[q]) {
                missed.add(new Miss(texts.get(q), protoLabels.get(truth[q]), protoLabels.get(best)));
            }
        }
        int[] candidates = new int[prototypes.length];
        Arrays.setAll(candidates, i -> i);
        return Retrieval.accuracy(scores, truth, candidates);
    }
}
