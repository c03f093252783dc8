package dev.mdx.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * The one source of randomness of a training run: SplitMix64 (Steele, Lea, Flood 2014), whose whole state is a
 * single long, so a checkpoint saves it and a resumed run draws exactly the numbers the uninterrupted run would.
 * Gaussians use Box-Muller with {@link StrictMath}, whose results are specified bit for bit on every JVM.
 */
public final class Rng {
    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

    private long state;

    public Rng(long seed) {
        this.state = seed;
    }

    /** A generator that continues exactly where the one whose {@link #state()} was saved stopped. */
    public static Rng restore(long state) {
        return new Rng(state);
    }

    public long state() {
        return state;
    }

    public long nextLong() {
        state += GOLDEN_GAMMA;
        return mix(state);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [0, 1) with 24 random bits. */
    public float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }

    /** Uniform in [0, bound), unbiased (rejection of the short last interval). */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        long limit = (1L << 31) - (1L << 31) % bound;
        while (true) {
            long r = nextLong() >>> 33;
            if (r < limit) {
                return (int) (r % bound);
            }
        }
    }

    /** One standard normal value (the second value of the Box-Muller pair is dropped, keeping the state one long). */
    public double nextGaussian() {
        double[] pair = gaussianPair();
        return pair[0];
    }

    /** {@code n} standard normal values, both values of each Box-Muller pair used. */
    public float[] gaussians(int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i += 2) {
            double[] pair = gaussianPair();
            out[i] = (float) pair[0];
            if (i + 1 < n) {
                out[i + 1] = (float) pair[1];
            }
        }
        return out;
    }

    /** {@code n} uniform values in [0, 1). */
    public float[] uniforms(int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = nextFloat();
        }
        return out;
    }

    /** A FLOAT32 array of standard normal noise owned by {@code manager}. */
    public NDArray randn(NDManager manager, Shape shape) {
        return manager.create(gaussians(Math.toIntExact(shape.size())), shape);
    }

    /** A FLOAT32 array of uniform [0, 1) values owned by {@code manager}. */
    public NDArray rand(NDManager manager, Shape shape) {
        return manager.create(uniforms(Math.toIntExact(shape.size())), shape);
    }

    /** An independent generator seeded from this one (advances this one by one draw). */
    public Rng fork() {
        return new Rng(nextLong());
    }

    /** A generator for a named purpose at a step, independent of (and not advancing) any training stream. */
    public static Rng derived(long seed, long purpose, long step) {
        return new Rng(mix(mix(seed ^ mix(purpose)) + step * GOLDEN_GAMMA));
    }

    private double[] gaussianPair() {
        double u1 = 1.0 - nextDouble(); // (0, 1]: log is finite
        double u2 = nextDouble();
        double r = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
        double theta = 2.0 * StrictMath.PI * u2;
        return new double[] {r * StrictMath.cos(theta), r * StrictMath.sin(theta)};
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
