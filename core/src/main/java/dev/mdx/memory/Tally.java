package dev.mdx.memory;

/**
 * The bytes a forward pass holds as an analyzer walks it op by op: every op's result is allocated and stays until
 * the scope it was made in closes ({@link #close}), as with DJL's managers; the peak is the largest total seen.
 * What attention layers hold (projections, their batched copies, one chunk's scores) is counted apart as well, so
 * that a report can say how much of the peak it is. Doubles, so that absurd sizes saturate instead of overflowing.
 */
final class Tally {
    private double live;
    private double liveAttention;
    private double peak;
    private double peakAttention;
    private boolean inAttention;

    /** An array of {@code bytes} made in the current scope. */
    void hold(double bytes) {
        live += bytes;
        if (inAttention) {
            liveAttention += bytes;
        }
        touch(0);
    }

    /** Memory an op uses only while it runs (a kernel's workspace), on top of what is held. */
    void touch(double transientBytes) {
        if (live + transientBytes > peak) {
            peak = live + transientBytes;
            peakAttention = liveAttention + (inAttention ? transientBytes : 0);
        }
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

    /** Closes a scope: everything made since {@code mark} is freed except its result of {@code keptBytes}. */
    void close(Mark mark, double keptBytes) {
        live = mark.live + keptBytes;
        liveAttention = mark.attention + (inAttention ? keptBytes : 0);
    }

    /** Frees an array made earlier in the current scope (not an attention layer's). */
    void free(double bytes) {
        live -= bytes;
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
