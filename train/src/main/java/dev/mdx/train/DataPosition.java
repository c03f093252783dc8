package dev.mdx.train;

import dev.mdx.train.data.DataOrder;
import dev.mdx.train.data.DatasetException;

/**
 * Where a batch source is in its data: the epoch and the index of the next example within it. Saved in every
 * checkpoint so that a resumed run reads exactly the batches the uninterrupted run would have read.
 */
public record DataPosition(long epoch, long index) {
    public static final DataPosition START = new DataPosition(0, 0);

    public DataPosition {
        if (epoch < 0 || index < 0) {
            throw new IllegalArgumentException("data position must be non-negative, got epoch " + epoch
                    + " index " + index);
        }
    }

    /** The items of a batch and the position after it. */
    public record Batch(int[] items, DataPosition next) {}

    /**
     * The {@code size} items at this position of the seeded {@link DataOrder} over {@code pool} (epoch = the order's
     * epoch, index = its position), and the position after them: how batch sources stay pure functions of the
     * position.
     */
    public Batch take(int[] pool, long seed, int size) {
        if (epoch > Integer.MAX_VALUE || index > pool.length) {
            // only a resumed checkpoint gets here: batch sources never step past their pool
            throw new DatasetException("the data position of the resumed checkpoint (epoch " + epoch + ", item "
                    + index + ") lies past the " + pool.length + " items of the data: it was made with other data");
        }
        DataOrder order = DataOrder.resume(pool, new DataOrder.State(seed, pool.length, Math.toIntExact(epoch),
                Math.toIntExact(index)));
        int[] items = order.next(size);
        DataOrder.State after = order.state();
        return new Batch(items, new DataPosition(after.epoch(), after.position()));
    }
}
