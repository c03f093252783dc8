package dev.mdx.train.data;

/**
 * A seeded, resumable order over a pool of item indices: each epoch is a fresh shuffle that depends only on the
 * seed and the epoch number, so saving {@link #state()} and calling {@link #resume} continues exactly where a
 * run stopped. Batches never straddle epochs: a short tail is dropped (the next epoch reshuffles everything).
 */
public final class DataOrder {
    /** Where an order stands; a record of numbers, so it serialises to JSON as it is. */
    public record State(long seed, int poolSize, int epoch, int position) {}

    private final int[] pool;
    private final long seed;
    private int epoch;
    private int position;
    private int[] permutation;

    public DataOrder(int[] pool, long seed) {
        this(pool, new State(seed, pool.length, 0, 0));
    }

    private DataOrder(int[] pool, State state) {
        if (pool.length == 0) {
            throw new IllegalArgumentException("cannot order an empty pool");
        }
        if (state.poolSize() != pool.length) {
            throw new IllegalArgumentException("saved order is for " + state.poolSize() + " items, this pool has " + pool.length);
        }
        if (state.epoch() < 0 || state.position() < 0 || state.position() > pool.length) {
            throw new IllegalArgumentException("saved order has a bad position: " + state);
        }
        this.pool = pool.clone();
        this.seed = state.seed();
        this.epoch = state.epoch();
        this.position = state.position();
        this.permutation = shuffle(this.pool, seed, epoch);
    }

    public static DataOrder resume(int[] pool, State state) {
        return new DataOrder(pool, state);
    }

    /** The next {@code batchSize} indices; starts a new epoch when fewer than that are left in this one. */
    public int[] next(int batchSize) {
        if (batchSize <= 0 || batchSize > pool.length) {
            throw new IllegalArgumentException("batch size " + batchSize + " must be in 1.." + pool.length);
        }
        if (position + batchSize > pool.length) {
            epoch++;
            position = 0;
            permutation = shuffle(pool, seed, epoch);
        }
        int[] batch = new int[batchSize];
        System.arraycopy(permutation, position, batch, 0, batchSize);
        position += batchSize;
        return batch;
    }

    /**
     * A fixed, seeded sample of up to {@code n} items of a pool (the first {@code n} of the seed's first epoch),
     * ascending; the whole pool (a copy) when {@code n} is at least its size. Empty for an empty pool.
     */
    public static int[] sample(int[] pool, int n, long seed) {
        if (n < 0) {
            throw new IllegalArgumentException("sample size must be >= 0, got " + n);
        }
        if (n >= pool.length) {
            return pool.clone();
        }
        if (n == 0) {
            return new int[0];
        }
        int[] picked = new DataOrder(pool, seed).next(n);
        java.util.Arrays.sort(picked);
        return picked;
    }

    public State state() {
        return new State(seed, pool.length, epoch, position);
    }

    public int epoch() {
        return epoch;
    }

    static int[] shuffle(int[] pool, long seed, int epoch) {
        int[] p = pool.clone();
        // our own SplitMix64 stream, so the order never depends on a JDK's Random implementation
        long state = StableHash.mix(seed) ^ StableHash.mix(0x9e3779b97f4a7c15L + epoch);
        for (int i = p.length - 1; i > 0; i--) {
            state += 0x9e3779b97f4a7c15L;
            long r = StableHash.mix(state) >>> 32;
            int j = (int) ((r * (i + 1)) >>> 32);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
