package dev.mdx.train.clip;

import ai.djl.ndarray.NDManager;
import dev.mdx.train.data.ImageDataset;
import dev.mdx.train.eval.EvalGrid;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A sample grid of a trained small CLIP: 16 held-out images, each captioned with the CLIP's top label among all
 * labels of {@code labels.txt} and the rank of the true one. Used for docs/CLIP.md:
 * {@code java -cp <test classpath> dev.mdx.train.clip.RetrievalGridMain CLIP_DIR DATASET_DIR OUT.png}
 */
public final class RetrievalGridMain {
    private static final int IMAGES = 16;

    private RetrievalGridMain() {}

    public static void main(String[] args) throws Exception {
        Path clip = Path.of(args[0]);
        ImageDataset data = ImageDataset.open(Path.of(args[1]));
        List<String> labels = Files.readAllLines(clip.resolve("labels.txt")).stream().filter(l -> !l.isBlank())
                .toList();
        int[] test = data.indices("test");
        int[] items = new int[IMAGES];
        for (int i = 0; i < IMAGES; i++) {
            items[i] = test[(int) ((long) i * test.length / IMAGES)];
        }
        try (NDManager m = NDManager.newBaseManager()) {
            ClipScorer scorer = ClipScorer.load(clip, m, 256);
            float[][] text = scorer.textEmbeddings(labels);
            float[][] images = scorer.imageEmbeddings((scope, from, to) ->
                    data.batch(scope, Arrays.copyOfRange(items, from, to)), IMAGES);
            double[][] scores = Retrieval.cosine(images, text);
            List<EvalGrid.Cell> cells = new ArrayList<>();
            for (int i = 0; i < IMAGES; i++) {
                Integer[] order = new Integer[labels.size()];
                for (int k = 0; k < order.length; k++) {
                    order[k] = k;
                }
                double[] row = scores[i];
                Arrays.sort(order, (a, b) -> Double.compare(row[b], row[a]));
                byte[] rgb = data.rgb(items[i]);
                int rank = Arrays.asList(order).indexOf(labels.indexOf(data.label(items[i])));
                cells.add(new EvalGrid.Cell(rgb, rgb, "CLIP: " + labels.get(order[0]) + " (true label ranks "
                        + (rank + 1) + ")"));
            }
            EvalGrid.write(Path.of(args[2]), List.of(new EvalGrid.Band("held-out images (shown twice), the small "
                    + "CLIP's top label of " + labels.size() + " and the true label's rank", cells)),
                    data.width(), data.height(), 8);
        }
    }
}
