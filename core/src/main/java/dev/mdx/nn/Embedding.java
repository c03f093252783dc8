package dev.mdx.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.SparseFormat;

/** A lookup table {@code weight} (count, dim); indices are int64. */
public final class Embedding extends Module {
    private final Parameter weight;

    public Embedding(int count, int dim) {
        this.weight = parameter("weight", count, dim);
    }

    /** (...) int64 -> (..., dim). */
    public NDArray forward(NDArray ids) {
        return ids.getNDArrayInternal().embedding(ids, weight.get(), SparseFormat.DENSE).singletonOrThrow();
    }

    public Parameter weight() {
        return weight;
    }
}
