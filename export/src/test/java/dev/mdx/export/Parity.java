package dev.mdx.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/** Whole-tensor comparison of ONNX Runtime's output with mdx's, and seeded inputs for both. */
final class Parity {
    private Parity() {}

    /** Seeded standard-normal values in mdx and as an ONNX Runtime input. */
    record Tensor(float[] data, long[] shape) {
        NDArray in(NDManager m) {
            return m.create(data, new Shape(shape));
        }

        OrtGraph.Input ort() {
            return OrtGraph.floats(data, shape);
        }
    }

    static Tensor normal(long seed, double scale, long... shape) {
        Random r = new Random(seed);
        float[] data = new float[Math.toIntExact(new Shape(shape).size())];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (r.nextGaussian() * scale);
        }
        return new Tensor(data, shape);
    }

    /**
     * Asserts that {@code actual} matches {@code expected} on the whole tensor: same shape, and the largest absolute
     * difference at most {@code tolerance} times the largest absolute expected value (at least 1). Returns that
     * relative error, for the docs.
     */
    static double assertClose(String what, NDArray expected, OrtGraph.Output actual, double tolerance) {
        assertArrayEquals(expected.getShape().getShape(), actual.shape(), what + ": shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.data();
        double maxDiff = 0;
        double maxAbs = 0;
        for (int i = 0; i < e.length; i++) {
            assertTrue(Float.isFinite(a[i]), what + ": ONNX Runtime gave a non-finite value at " + i);
            maxDiff = Math.max(maxDiff, Math.abs(e[i] - a[i]));
            maxAbs = Math.max(maxAbs, Math.abs(e[i]));
        }
        double relative = maxDiff / Math.max(1.0, maxAbs);
        System.out.printf("parity %-60s max|diff| %.3g  max|mdx| %.3g  relative %.3g (tolerance %.0e)%n", what,
                maxDiff, maxAbs, relative, tolerance);
        assertTrue(relative <= tolerance, what + ": max |diff| " + maxDiff + " over max |value| " + maxAbs
                + " is " + relative + ", above the tolerance " + tolerance);
        return relative;
    }
}
