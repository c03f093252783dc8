package dev.mdx.tensor;

/**
 * Counts the multiply-add work (2 flops per MAC) of the matrix-shaped ops that {@link Ops} executes on the
 * current thread while a count is open: convolutions, linear layers and the two attention matmuls. Element-wise
 * ops are not counted, as is customary for model FLOP figures.
 */
public final class FlopCounter implements AutoCloseable {
    private static final ThreadLocal<FlopCounter> CURRENT = new ThreadLocal<>();

    private final FlopCounter outer;
    private long flops;

    private FlopCounter(FlopCounter outer) {
        this.outer = outer;
    }

    /** Opens a count on this thread; close it to stop counting. Counts nest: an outer count sees inner work. */
    public static FlopCounter start() {
        FlopCounter c = new FlopCounter(CURRENT.get());
        CURRENT.set(c);
        return c;
    }

    static void add(long n) {
        for (FlopCounter c = CURRENT.get(); c != null; c = c.outer) {
            c.flops += n;
        }
    }

    static boolean active() {
        return CURRENT.get() != null;
    }

    public long flops() {
        return flops;
    }

    @Override
    public void close() {
        CURRENT.set(outer);
    }
}
