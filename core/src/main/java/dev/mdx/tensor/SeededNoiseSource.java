package dev.mdx.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Gaussian noise from a seed: {@link SplittableRandom} uniforms turned into normals by the Box-Muller transform with
 * {@link StrictMath}, so the values are bit-identical on every JVM and platform. Not thread-safe: one per run.
 */
public final class SeededNoiseSource implements NoiseSource {
    private final long seed;
    private final SplittableRandom random;
    private double spare;
    private boolean hasSpare;

    public SeededNoiseSource(long seed) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    public long seed() {
        return seed;
    }

    @Override
    public NDArray gaussian(NDManager manager, Shape shape) {
        long size = shape.size();
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("noise tensor too large: " + shape);
        }
        float[] values = new float[(int) size];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) nextGaussian();
        }
        return manager.create(values, shape);
    }

    /** The next standard normal value (Box-Muller yields them in pairs). */
    public double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            return spare;
        }
        // 1 - u lies in (0, 1], so the log is finite
        double u1 = 1.0 - random.nextDouble();
        double u2 = random.nextDouble();
        double radius = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
        double angle = 2.0 * StrictMath.PI * u2;
        spare = radius * StrictMath.sin(angle);
        hasSpare = true;
        return radius * StrictMath.cos(angle);
    }
}
