package dev.mdx.memory;

/**
 * The bytes a forward pass holds as an analyzer walks it op by op: every op's result is allocated and stays until
 * the scope it was made in closes ({@link #close}), as with DJL's managers; the peak is the largest total seen.
 * What attention layers hold (projections, their batched copies, one chunk's scores) is counted apart as well, so
 * that a report can say how much of the peak it is. Doubles, so that absurd sizes saturate instead of overflowing.
 *
 * <p>Bytes are counted as resident memory, not as array sizes: glibc serves an array of up to 32 MB (its largest
 * mmap threshold) from its heap, where freed blocks are reused only partly by later arrays of other sizes, so such
 * arrays cost {@link #HEAP_OVERHEAD} times their size; larger ones are mapped and unmapped exactly but still cost
 * about {@link #MAPPED_OVERHEAD} times theirs (libtorch's and oneDNN's own buffers alongside). Both factors are fitted to
 * 18 measured peaks of five models (docs/BENCHMARKS.md, "Memory") so that every estimate stays above them.
 */
final class Tally {
    /** glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: the dynamic threshold never rises above it. */
    static final double HEAP_MAX_BYTES = 32 << 20;
    static final double HEAP_OVERHEAD = 1.4;
    static final double MAPPED_OVERHEAD = 1.25;

    private double live;
    private double liveAttention;
    private double peak;
    private double peakAttention;
    private boolean inAttention;
    private double peakSinceCheckpoint;
    private final java.util.List<String> checkpoints = new java.util.ArrayList<>();

    /**
     * What an array of {@code bytes} adds to the resident size: its first 32 MB at the heap's rate, the rest at
     * the mapped rate, so that the estimate grows continuously (and monotonically) with the size.
     */
    static double resident(double bytes) {
        double heap = Math.min(bytes, HEAP_MAX_BYTES);
        return HEAP_OVERHEAD * heap + MAPPED_OVERHEAD * (bytes - heap);
    }

    /** An array of {@code bytes} made in the current scope. */
    void hold(double bytes) {
        double r = resident(bytes);
        live += r;
        if (inAttention) {
            liveAttention += r;
        }
        touch(0);
    }

    /** Memory an op uses only while it runs (a kernel's workspace of {@code bytes}), on top of what is held. */
    void touch(double bytes) {
        double transientBytes = resident(bytes);
        peakSinceCheckpoint = Math.max(peakSinceCheckpoint, live + transientBytes);
        if (live + transientBytes > peak) {
            peak = live + transientBytes;
            peakAttention = liveAttention + (inAttention ? transientBytes : 0);
        }
    }

    /**
     * Notes what is held now and the peak since the previous checkpoint, under a module path as the forward pass's
     * probe names it ("down_blocks.0"): {@link #checkpoints()} lines up with a measurement taken at the same points.
     */
    void checkpoint(String name) {
        checkpoints.add(String.format(java.util.Locale.ROOT, "%-16s held %7.0f MB, peak since the previous %7.0f MB",
                name, live / 1e6, peakSinceCheckpoint / 1e6));
        peakSinceCheckpoint = live;
    }

    java.util.List<String> checkpoints() {
        return checkpoints;
    }

    /** From now until {@link #endAttention}, what is held counts as attention's. */
    void beginAttention() {
        inAttention = true;
    }

    void endAttention() {
        inAttention = false;
    }

    /** The state to return to when the scope opened now closes. */
    Mark open() {
        return new Mark(live, liveAttention);
    }

    /** Closes a scope: everything made since {@code mark} is freed except its result, an array of {@code keptBytes}. */
    void close(Mark mark, double keptBytes) {
        double r = resident(keptBytes);
        live = mark.live + r;
        liveAttention = mark.attention + (inAttention ? r : 0);
    }

    /** Frees an array of {@code bytes} made earlier in the current scope (not an attention layer's). */
    void free(double bytes) {
        live -= resident(bytes);
    }

    double peak() {
        return peak;
    }

    /** What attention layers held at the peak. */
    double peakAttention() {
        return peakAttention;
    }

    record Mark(double live, double attention) {}
}
