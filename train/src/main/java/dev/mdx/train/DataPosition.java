package dev.mdx.train;

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
}
