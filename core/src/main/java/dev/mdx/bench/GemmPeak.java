package dev.mdx.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Measures this machine's fp32 matrix-multiply throughput through the same engine the models use, so that model
 * timings can be read as a fraction of what the hardware delivers.
 */
public final class GemmPeak {
    private GemmPeak() {}

    /** Best GFLOP/s over a few square products of size n (2 n^3 flops each), after warm-up. */
    public static double measure(int n, int repeats) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.randomNormal(new Shape(n, n));
            NDArray b = m.randomNormal(new Shape(n, n));
            double best = 0;
            for (int i = 0; i < repeats + 2; i++) {
                try (NDManager scope = m.newSubManager()) {
                    NDArray sa = a.duplicate();
                    sa.attach(scope);
                    // libtorch's CPU ops return when done: no read-back in the timed region (copying the 16 MB
                    // product to the Java heap cost 10-40% of the measured rate)
                    long t0 = System.nanoTime();
                    sa.matMul(b);
                    double s = (System.nanoTime() - t0) / 1e9;
                    if (i >= 2) {
                        best = Math.max(best, 2.0 * n * n * n / s / 1e9);
                    }
                }
            }
            return best;
        }
    }
}
