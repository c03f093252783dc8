package dev.mdx.train.classifier;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.train.BatchSource;
import dev.mdx.train.DataPosition;
import dev.mdx.train.Rng;
import dev.mdx.train.data.DatasetException;
import dev.mdx.train.data.ImageDataset;

/**
 * Batches of (image, class id) from one split in the data set's seeded order, a pure function of the position, so a
 * resumed run reads the same batches.
 */
public final class LabelledBatches implements BatchSource<LabelledBatches.Batch> {
    /** Images (B, C, H, W) in [-1, 1] and their class ids as one-hot rows (B, classes). */
    public record Batch(NDArray images, NDArray oneHot, int[] labels) {}

    private final ImageDataset dataset;
    private final int[] pool;
    private final long seed;
    private final int batchSize;
    private final int classes;

    public LabelledBatches(ImageDataset dataset, int[] pool, long seed, int batchSize, int classes) {
        if (pool.length < batchSize) {
            throw new DatasetException(dataset.dir() + ": " + pool.length + " training images, fewer than "
                    + "train_batch_size " + batchSize);
        }
        this.dataset = dataset;
        this.pool = pool;
        this.seed = seed;
        this.batchSize = batchSize;
        this.classes = classes;
    }

    @Override
    public Next<Batch> next(NDManager scope, DataPosition position, Rng rng) {
        DataPosition.Batch taken = position.take(pool, seed, batchSize);
        int[] indices = taken.items();
        int[] labels = new int[indices.length];
        float[] hot = new float[indices.length * classes];
        for (int i = 0; i < indices.length; i++) {
            labels[i] = dataset.item(indices[i]).classId();
            hot[i * classes + labels[i]] = 1f;
        }
        Batch b = new Batch(dataset.batch(scope, indices), scope.create(hot, new Shape(indices.length, classes)),
                labels);
        return new Next<>(b, taken.next());
    }

    /** Mean cross-entropy of the classifier's logits against the batch's classes. */
    public static NDArray crossEntropy(ImageClassifier model, Batch batch) {
        NDArray logProbs = model.forward(batch.images()).logSoftmax(1);
        return batch.oneHot().mul(logProbs).sum(new int[] {1}).mean().neg();
    }
}
