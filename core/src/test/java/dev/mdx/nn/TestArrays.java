package dev.mdx.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/** Seeded random arrays for layer tests (test helper, not a test). */
final class TestArrays {
    private TestArrays() {}

    static NDArray randn(NDManager m, Random rng, float std, long... shape) {
        Shape s = new Shape(shape);
        float[] data = new float[Math.toIntExact(s.size())];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) rng.nextGaussian() * std;
        }
        return m.create(data, s);
    }

    /** Fills every parameter of a module with seeded N(0, std^2) values. */
    static void fill(Module module, NDManager m, Random rng, float std) {
        module.namedParameters().values().forEach(p -> p.set(randn(m, rng, std, p.shape().getShape())));
    }
}
