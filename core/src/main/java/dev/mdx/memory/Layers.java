package dev.mdx.memory;

/**
 * What each layer allocates when it runs, as {@code dev.mdx.tensor.Ops} and the modules compute it: every op makes a
 * new array that its scope holds, and libtorch's kernels make copies they free before returning. Sizes are bytes of
 * float32 ({@link #bytes}); a caller passes the element counts of its tensors.
 */
final class Layers {
    static final double FLOAT = 4;

    /**
     * Attention runs in query chunks of this many score elements ({@code Ops.chunkScoreElements}), each chunk in
     * its own scope; a chunk is at least one query row.
     */
    static final double CHUNK_SCORE_ELEMENTS = 1 << 20;

    /**
     * oneDNN's workspace while a convolution runs, as a multiple of its input: it copies the input into its blocked
     * layout (measured for 1x1 and 3x3 convs of 128-960 channels: 0.97-1.0 of the input beyond the output; the
     * weights' reorder, at most 59 MB for SD-1.5, is left out).
     */
    static final double CONV_SCRATCH_IN = 1;

    private final Tally t;

    Layers(Tally t) {
        this.t = t;
    }

    static double bytes(double elements) {
        return FLOAT * elements;
    }

    Tally tally() {
        return t;
    }

    /** GroupNorm as Ops.groupNorm computes it: centered, squared, normalised, scaled, shifted (5 arrays of n). */
    void groupNorm(double n) {
        t.hold(5 * bytes(n));
    }

    /** SiLU: sigmoid and product. */
    void silu(double n) {
        t.hold(2 * bytes(n));
    }

    /** A LayerNorm (one native op). */
    void layerNorm(double n) {
        t.hold(bytes(n));
    }

    /** An elementwise op or a copy into a new array. */
    void elementwise(double n) {
        t.hold(bytes(n));
    }

    /** A convolution from {@code in} to {@code out} elements; its workspace lives only while it runs. */
    void conv(double in, double out) {
        t.touch(bytes(CONV_SCRATCH_IN * in + out));
        t.hold(bytes(out));
    }

    /**
     * A linear layer from {@code in} to {@code out} elements; an input that is a transposed view is first copied
     * by libtorch ({@code contiguousInput} false).
     */
    void linear(double in, double out, boolean contiguousInput) {
        t.touch(bytes((contiguousInput ? 0 : in) + out));
        t.hold(bytes(out));
    }

    /**
     * Ops.attention on projected (batch, queries, inner) queries and (batch, keys, inner) keys and values, heads
     * heads, from the scaled queries to the (batch, queries, inner) result before to_out. Whole, libtorch's
     * batched products copy the (transposed) queries and keys, then the values, while they run. In query chunks,
     * queries, keys and values are copied into the batched layout once and every chunk writes into one output,
     * its scores freed before the next chunk.
     */
    void attention(double batch, double queries, double keys, double inner, double heads) {
        double q = batch * queries * inner;
        double kv = batch * keys * inner;
        double rowScores = batch * heads * keys;
        double rows = Math.max(1, Math.floor(CHUNK_SCORE_ELEMENTS / rowScores));
        t.hold(bytes(q)); // queries times 1 / sqrt(d)
        if (rows >= queries) {
            double scores = rowScores * queries;
            t.touch(bytes(q + kv + scores));
            t.hold(bytes(scores)); // Q K^T
            t.hold(bytes(scores)); // softmax or ReLU
            t.touch(bytes(kv + q));
            t.hold(bytes(q)); // A V
        } else {
            t.hold(bytes(q + 2 * kv)); // (B*H, N, D) copies of queries, keys and values
            t.hold(bytes(q)); // the output the chunks fill
            double chunkOut = batch * rows * inner;
            Tally.Mark chunk = t.open();
            t.hold(bytes(rowScores * rows));
            t.hold(bytes(rowScores * rows));
            t.hold(bytes(chunkOut));
            t.close(chunk, 0);
        }
        t.hold(bytes(q)); // (B, H, N, D) -> (B, N, H*D) copies
    }
}
