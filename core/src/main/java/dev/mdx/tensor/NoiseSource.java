package dev.mdx.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Where all randomness of a generation comes from: standard-normal float32 tensors, drawn in order. A source is a
 * per-run object (drawing advances it); the same seed gives the same sequence of tensors on every machine. Tests
 * inject recorded tensors instead.
 */
public interface NoiseSource {
    /** The next standard-normal float32 tensor of the given shape, created in {@code manager}. */
    NDArray gaussian(NDManager manager, Shape shape);

    /** A deterministic source for a seed. */
    static NoiseSource seeded(long seed) {
        return new SeededNoiseSource(seed);
    }
}
