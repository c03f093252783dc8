package dev.mdx.train.eval;

import dev.mdx.train.clip.ClipScorer;
import dev.mdx.train.clip.Retrieval;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.ImageDataset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The distinct labels of a data set (all splits), in order of first appearance: the caption's subject, e.g. an
 * emoji's name without the style ("waving hand: medium skin tone") or a Fashion-MNIST class name ("Ankle boot").
 * Generated images are classified by CLIP among the text embeddings of all of them.
 */
public final class LabelSet {
    /** How a label becomes text for the CLIP text tower. */
    public enum LabelText {
        /**
         * The mean of the unit text embeddings of the label's distinct canonical captions in the data set (every
         * style of an emoji; the one class caption of Fashion-MNIST), normalised: CLIP's prompt ensembling, with the
         * captions the CLIP was trained on.
         */
        CAPTIONS,
        /** The label string itself. */
        LABEL;

        public String jsonName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final List<String> labels;
    private final Map<String, Integer> index;
    private final Map<String, Set<String>> captions;

    private LabelSet(List<String> labels, Map<String, Set<String>> captions) {
        this.labels = List.copyOf(labels);
        this.captions = captions;
        this.index = new LinkedHashMap<>();
        for (int i = 0; i < labels.size(); i++) {
            index.put(labels.get(i), i);
        }
    }

    public static LabelSet of(ImageDataset dataset) {
        return of(dataset.items());
    }

    public static LabelSet of(List<DatasetItem> items) {
        Map<String, Set<String>> captions = new LinkedHashMap<>();
        for (DatasetItem item : items) {
            captions.computeIfAbsent(item.label(), k -> new LinkedHashSet<>()).add(item.caption());
        }
        return new LabelSet(new ArrayList<>(captions.keySet()), captions);
    }

    public int size() {
        return labels.size();
    }

    public List<String> labels() {
        return labels;
    }

    /** The index of a label; -1 when it is not in the set. */
    public int indexOf(String label) {
        return index.getOrDefault(label, -1);
    }

    /** The distinct canonical captions of a label's items. */
    public List<String> captions(String label) {
        return List.copyOf(captions.get(label));
    }

    /**
     * One text embedding per label, in label order (not normalised: retrieval compares them by cosine). For
     * {@link LabelText#CAPTIONS} the sum of the unit embeddings of the label's captions, i.e. their mean direction.
     */
    public float[][] embed(ClipScorer scorer, LabelText mode) {
        if (mode == LabelText.LABEL) {
            return scorer.textEmbeddings(labels);
        }
        List<String> texts = new ArrayList<>();
        List<Integer> owners = new ArrayList<>();
        for (int l = 0; l < labels.size(); l++) {
            for (String c : captions.get(labels.get(l))) {
                texts.add(c);
                owners.add(l);
            }
        }
        double[][] each = Retrieval.unit(scorer.textEmbeddings(texts));
        int dim = each.length == 0 ? 0 : each[0].length;
        float[][] sums = new float[labels.size()][dim];
        for (int t = 0; t < each.length; t++) {
            float[] sum = sums[owners.get(t)];
            for (int d = 0; d < dim; d++) {
                sum[d] += (float) each[t][d];
            }
        }
        return sums;
    }

    /**
     * Top-1 and top-5 accuracy of classifying images by their nearest label embeddings (cosine), over all labels.
     *
     * @param imageEmbeds [image][dim]
     * @param labelEmbeds [label][dim]
     * @param truth the label index of each image
     */
    public static Retrieval.Accuracy accuracy(float[][] imageEmbeds, float[][] labelEmbeds, int[] truth) {
        int[] candidates = new int[labelEmbeds.length];
        for (int i = 0; i < candidates.length; i++) {
            candidates[i] = i;
        }
        return Retrieval.accuracy(Retrieval.cosine(imageEmbeds, labelEmbeds), truth, candidates);
    }
}
