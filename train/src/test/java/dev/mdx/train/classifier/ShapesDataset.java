package dev.mdx.train.classifier;

import dev.mdx.io.JsonConfig;
import dev.mdx.train.Rng;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.ImageDatasetWriter;
import java.nio.file.Path;
import java.util.List;

/**
 * A tiny labelled data set for classifier and evaluation tests: 16x16 images (gray or RGB) of three shapes at random
 * places on a noisy dark background: a horizontal stripe, a vertical column and a 5x5 square, captioned "a stripe",
 * "a column", "a square" (label = the shape's name, class ids 0..2).
 */
public final class ShapesDataset {
    public static final int SIZE = 16;
    public static final List<String> NAMES = List.of("stripe", "column", "square");

    private ShapesDataset() {}

    /** {@code perClassTrain} train and {@code perClassTest} test images of each shape. */
    public static Path write(Path dir, int channels, int perClassTrain, int perClassTest, long seed) {
        return write(dir, channels, perClassTrain, perClassTest, seed, false);
    }

    /**
     * As {@link #write(Path, int, int, int, long)}; with {@code holdoutKinds}, test items alternate between the
     * emoji set's two kinds of held-out items ("emoji", "pair").
     */
    public static Path write(Path dir, int channels, int perClassTrain, int perClassTest, long seed,
            boolean holdoutKinds) {
        Rng rng = new Rng(seed);
        try (ImageDatasetWriter w = new ImageDatasetWriter(dir, "shapes", SIZE, SIZE, channels)) {
            for (String split : List.of(DatasetItem.TRAIN, DatasetItem.TEST)) {
                int n = split.equals(DatasetItem.TRAIN) ? perClassTrain : perClassTest;
                for (int k = 0; k < n; k++) {
                    for (int c = 0; c < NAMES.size(); c++) {
                        String name = NAMES.get(c);
                        String holdout = holdoutKinds && split.equals(DatasetItem.TEST)
                                ? (k % 2 == 0 ? "emoji" : "pair") : null;
                        w.add(image(c, rng, channels), new DatasetItem(0, split, name, c, null,
                                List.of("a " + name, name), split + "/" + c + "/" + k, holdout));
                    }
                }
            }
            w.finish(JsonConfig.MAPPER.createObjectNode(), JsonConfig.MAPPER.createObjectNode());
        }
        return dir;
    }

    static byte[] image(int shape, Rng rng, int channels) {
        byte[] hwc = new byte[SIZE * SIZE * channels];
        int a = 1 + rng.nextInt(SIZE - 7);
        int b = 1 + rng.nextInt(SIZE - 7);
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                boolean on = switch (shape) {
                    case 0 -> y >= a && y < a + 2;
                    case 1 -> x >= b && x < b + 2;
                    default -> y >= a && y < a + 5 && x >= b && x < b + 5;
                };
                int v = on ? 200 + rng.nextInt(56) : rng.nextInt(60);
                for (int ch = 0; ch < channels; ch++) {
                    hwc[(y * SIZE + x) * channels + ch] = (byte) v;
                }
            }
        }
        return hwc;
    }
}
