package dev.mdx.train.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.text.ClipActivation;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.train.BatchSource;
import dev.mdx.train.DataPosition;
import dev.mdx.train.Rng;
import java.util.ArrayList;
import java.util.List;

/**
 * A tiny contrastive problem: 8 coloured 6x6 squares at random places on a black 16x16 image, captioned
 * "red square" etc. Every batch holds each colour once, in a random order.
 */
final class ColouredSquares {
    static final List<String> NAMES = List.of("red", "green", "blue", "yellow", "cyan", "magenta", "white", "gray");
    static final float[][] RGB = {
        {1, -1, -1}, {-1, 1, -1}, {-1, -1, 1}, {1, 1, -1}, {-1, 1, 1}, {1, -1, 1}, {1, 1, 1}, {0, 0, 0}};
    static final int SIZE = 16;
    static final int SQUARE = 6;

    private ColouredSquares() {}

    static List<String> captions() {
        return NAMES.stream().map(n -> n + " square").toList();
    }

    static ClipModelConfig config(int vocabSize) {
        ClipTextConfig text = new ClipTextConfig(vocabSize, 32, 64, 2, 2, 16, ClipActivation.QUICK_GELU, 1e-5,
                vocabSize - 2, vocabSize - 1, vocabSize - 1, 32);
        ClipVisionConfig vision = new ClipVisionConfig(SIZE, 4, 3, 32, 64, 2, 2, ClipActivation.QUICK_GELU, 1e-5);
        return new ClipModelConfig(text, vision, 32, ClipModelConfig.DEFAULT_LOGIT_SCALE_INIT);
    }

    /** (n, 3, 16, 16) images of the given colours with their squares' top-left corners at (ys[i], xs[i]). */
    static NDArray images(NDManager manager, int[] colours, int[] ys, int[] xs) {
        int plane = SIZE * SIZE;
        float[] data = new float[colours.length * 3 * plane];
        java.util.Arrays.fill(data, -1f);
        for (int i = 0; i < colours.length; i++) {
            for (int c = 0; c < 3; c++) {
                for (int y = ys[i]; y < ys[i] + SQUARE; y++) {
                    for (int x = xs[i]; x < xs[i] + SQUARE; x++) {
                        data[(i * 3 + c) * plane + y * SIZE + x] = RGB[colours[i]][c];
                    }
                }
            }
        }
        return manager.create(data, new Shape(colours.length, 3, SIZE, SIZE));
    }

    static BatchSource<ClipBatch> source(ClipTokenizer tokenizer) {
        List<String> captions = captions();
        return (scope, position, rng) -> {
            int n = NAMES.size();
            int[] colours = permutation(n, rng);
            int[] ys = new int[n];
            int[] xs = new int[n];
            List<String> text = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ys[i] = rng.nextInt(SIZE - SQUARE + 1);
                xs[i] = rng.nextInt(SIZE - SQUARE + 1);
                text.add(captions.get(colours[i]));
            }
            ClipBatch batch = new ClipBatch(images(scope, colours, ys, xs),
                    CaptionIds.encode(tokenizer, text, scope), colours);
            return new BatchSource.Next<>(batch, new DataPosition(position.epoch() + 1, 0));
        };
    }

    private static int[] permutation(int n, Rng rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
