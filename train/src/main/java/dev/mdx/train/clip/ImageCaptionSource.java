package dev.mdx.train.clip;

import ai.djl.ndarray.NDManager;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.train.BatchSource;
import dev.mdx.train.DataPosition;
import dev.mdx.train.Rng;
import dev.mdx.train.data.DataOrder;
import dev.mdx.train.data.ImageDataset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Image-caption batches from a cached image data set for the contrastive stage. The order is the data set's
 * seeded {@link DataOrder} over a pool of items, so the trainer's position (epoch, index) is the order's state and a
 * resumed run reads the same batches. Each image gets one of its caption variants, drawn from the run's generator;
 * pairs whose canonical captions are equal (the same emoji in the same style, the same Fashion-MNIST class) form one
 * group of the loss. Captions may get a made-up word ({@link FillerWords}).
 */
public final class ImageCaptionSource implements BatchSource<ClipBatch> {
    private final ImageDataset data;
    private final int[] pool;
    private final int batchSize;
    private final long orderSeed;
    private final ClipTokenizer tokenizer;
    private final boolean captionVariants;
    private final double fillerWords;

    /**
     * @param pool item indices to draw from (e.g. the train split)
     * @param orderSeed seed of the shuffle of each epoch
     * @param captionVariants draw among every caption of an item; false uses the canonical caption only
     * @param fillerWords probability that a caption gets a made-up word (0: captions as they are)
     */
    public ImageCaptionSource(ImageDataset data, int[] pool, int batchSize, long orderSeed, ClipTokenizer tokenizer,
            boolean captionVariants, double fillerWords) {
        if (batchSize < 2 || batchSize > pool.length) {
            throw new IllegalArgumentException("batch size must be between 2 and the pool size " + pool.length
                    + ", got " + batchSize);
        }
        this.data = data;
        this.pool = pool.clone();
        this.batchSize = batchSize;
        this.orderSeed = orderSeed;
        this.tokenizer = tokenizer;
        this.captionVariants = captionVariants;
        this.fillerWords = fillerWords;
    }

    @Override
    public Next<ClipBatch> next(NDManager scope, DataPosition position, Rng rng) {
        DataPosition.Batch taken = position.take(pool, orderSeed, batchSize);
        int[] items = taken.items();
        List<String> captions = captionVariants ? data.captions(items, rng.nextLong())
                : java.util.Arrays.stream(items).mapToObj(data::caption).toList();
        if (fillerWords > 0) {  // drawn only when on, so runs without it read the generator as before
            captions = FillerWords.insert(captions, fillerWords, rng.nextLong());
        }
        ClipBatch batch = new ClipBatch(data.batch(scope, items), CaptionIds.encode(tokenizer, captions, scope),
                groups(data, items));
        return new Next<>(batch, taken.next());
    }

    /** Equal canonical captions get equal group numbers. */
    static int[] groups(ImageDataset data, int[] items) {
        Map<String, Integer> ids = new HashMap<>();
        int[] groups = new int[items.length];
        for (int i = 0; i < items.length; i++) {
            groups[i] = ids.computeIfAbsent(data.caption(items[i]), k -> ids.size());
        }
        return groups;
    }
}
