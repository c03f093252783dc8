package dev.mdx.train.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mdx.io.ModelFormatException;
import dev.mdx.text.ClipTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Scores images with a trained CLIP: embeddings of images and captions in chunks (each chunk in its own scope, so
 * memory stays flat), retrieval accuracy of images against captions, and image features for a Frechet distance.
 */
public final class ClipScorer {
    private final ClipModel model;
    private final ClipTokenizer tokenizer;
    private final NDManager parent;
    private final int chunk;

    /**
     * @param parent the manager under which each chunk's scope is made
     * @param chunk images or captions per forward pass
     */
    public ClipScorer(ClipModel model, ClipTokenizer tokenizer, NDManager parent, int chunk) {
        if (chunk < 1) {
            throw new IllegalArgumentException("chunk must be at least 1, got " + chunk);
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.parent = parent;
        this.chunk = chunk;
    }

    /** A scorer for a CLIP folder written by {@link ClipTraining}: the model and its tokenizer files. */
    public static ClipScorer load(Path clipDir, NDManager manager, int chunk) {
        ClipTokenizer tokenizer = ClipTokenizer.load(clipDir);
        ClipModel model = ClipModel.load(clipDir, manager);
        model.config().text().requireTokenizer(tokenizer);
        int positions = model.config().text().maxPositionEmbeddings();
        if (tokenizer.maxLength() > positions) {
            // captions are read at up to the tokenizer's length, which the text tower must hold
            throw new ModelFormatException(clipDir + ": the tokenizer's model_max_length " + tokenizer.maxLength()
                    + " exceeds the text tower's max_position_embeddings " + positions);
        }
        return new ClipScorer(model, tokenizer, manager, chunk);
    }

    public ClipModel model() {
        return model;
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    /** Retrieval of both directions between images and their captions. */
    public record Report(Retrieval.Accuracy imageToText, Retrieval.Accuracy textToImage, int images, int captions) {}

    /** Supplies images {@code from} (inclusive) to {@code to} (exclusive) as (n, C, H, W) in [-1, 1], in a given scope. */
    @FunctionalInterface
    public interface Images {
        NDArray get(NDManager scope, int from, int to);
    }

    /** (N, P) projected image embeddings. */
    public float[][] imageEmbeddings(Images images, int count) {
        return rows(count, (scope, range) -> model.imageEmbeds(images.get(scope, range[0], range[1])));
    }

    /** (N, D_vision) pooled image features (before the projection): the features for a Frechet distance. */
    public float[][] imageFeatures(Images images, int count) {
        return rows(count, (scope, range) -> model.imageFeatures(images.get(scope, range[0], range[1])));
    }

    /**
     * The Frechet distance between the image tower's pooled features of two image sets: FID with this CLIP's image
     * tower in place of Inception. Needs at least 2 images per set; more images than feature dimensions give a
     * full-rank covariance.
     */
    public double frechetDistance(Images a, int countA, Images b, int countB) {
        return FrechetDistance.between(imageFeatures(a, countA), imageFeatures(b, countB));
    }

    /** (N, P) projected caption embeddings. */
    public float[][] textEmbeddings(List<String> captions) {
        return rows(captions.size(), (scope, range) ->
                model.textEmbeds(CaptionIds.encode(tokenizer, captions.subList(range[0], range[1]), scope)));
    }

    /**
     * Image-to-text accuracy (is the image's caption among the k captions closest to it, out of the distinct
     * captions) and text-to-image accuracy (is one of the caption's images among the k images closest to it).
     *
     * @param captions the caption of each image; equal captions form one candidate
     */
    public Report retrieval(Images images, List<String> captions) {
        Map<String, Integer> distinct = new LinkedHashMap<>();
        int[] imageGroups = new int[captions.size()];
        for (int i = 0; i < captions.size(); i++) {
            imageGroups[i] = distinct.computeIfAbsent(captions.get(i), k -> distinct.size());
        }
        List<String> candidates = new ArrayList<>(distinct.keySet());
        int[] captionGroups = new int[candidates.size()];
        for (int i = 0; i < captionGroups.length; i++) {
            captionGroups[i] = i;
        }
        double[][] scores = Retrieval.cosine(imageEmbeddings(images, captions.size()), textEmbeddings(candidates));
        return new Report(Retrieval.accuracy(scores, imageGroups, captionGroups),
                Retrieval.accuracy(Retrieval.transpose(scores), captionGroups, imageGroups),
                captions.size(), candidates.size());
    }

    private float[][] rows(int count, BiFunction<NDManager, int[], NDArray> forward) {
        float[][] out = new float[count][];
        for (int from = 0; from < count; from += chunk) {
            int to = Math.min(count, from + chunk);
            try (NDManager scope = parent.newSubManager()) {
                NDArray result = forward.apply(scope, new int[] {from, to});
                int width = Math.toIntExact(result.getShape().get(1));
                float[] flat = result.toType(DataType.FLOAT32, false).toFloatArray();
                for (int i = 0; i < to - from; i++) {
                    out[from + i] = java.util.Arrays.copyOfRange(flat, i * width, (i + 1) * width);
                }
            }
        }
        return out;
    }
}
