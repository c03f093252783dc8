package dev.mdx.train;

import ai.djl.ndarray.NDManager;

/**
 * What the trainer needs from a data set: the batch at a position. A source is a function of the position and
 * of the run's generator (for shuffling or augmentation), so a checkpoint that saves both resumes exactly.
 *
 * @param <B> the batch type, e.g. an {@code NDList} or a record of arrays
 */
@FunctionalInterface
public interface BatchSource<B> {
    /**
     * Builds the batch at {@code position}. Every array of the batch must be owned by {@code scope}, which the
     * trainer closes after the step.
     */
    Next<B> next(NDManager scope, DataPosition position, Rng rng);

    /** A batch and the position of the batch after it. */
    record Next<B>(B batch, DataPosition position) {}
}
