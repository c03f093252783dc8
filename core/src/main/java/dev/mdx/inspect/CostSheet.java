package dev.mdx.inspect;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Accumulates parameters and FLOPs per block kind while an analyzer walks a config with shapes. Each method
 * mirrors one layer of the module tree: the parameters it registers and the work Ops counts when it runs.
 */
final class CostSheet {
    private final Map<String, long[]> parts = new LinkedHashMap<>();
    private static final int PARAMS = 0;
    private static final int CONV = 1;
    private static final int LINEAR = 2;
    private static final int ATTENTION = 3;

    private long[] part(String name) {
        return parts.computeIfAbsent(name, k -> new long[4]);
    }

    /**
     * A k x k convolution producing (batch, out, outH, outW).
     *
     * @param groups 1 for a plain conv, {@code in} for a depthwise one
     */
    void conv(String part, int in, int out, int kernel, int groups, boolean bias, long batch, long outH, long outW) {
        long perOutput = (long) (in / groups) * kernel * kernel;
        long[] p = part(part);
        p[PARAMS] += out * perOutput + (bias ? out : 0);
        p[CONV] += 2 * batch * out * outH * outW * perOutput;
    }

    /** y = x W^T (+ b) over {@code rows} rows. */
    void linear(String part, int in, int out, boolean bias, long rows) {
        long[] p = part(part);
        p[PARAMS] += (long) in * out + (bias ? out : 0);
        p[LINEAR] += 2 * rows * in * out;
    }

    /** A GroupNorm or LayerNorm: weight and bias per channel, no counted FLOPs. */
    void norm(String part, int channels) {
        part(part)[PARAMS] += 2L * channels;
    }

    /** A lookup table: parameters only. */
    void table(String part, int rows, int dim) {
        part(part)[PARAMS] += (long) rows * dim;
    }

    /** Q K^T and A V of multi-head attention with {@code inner} = heads * head size. */
    void attention(String part, long batch, long queries, long keys, long inner) {
        part(part)[ATTENTION] += 2 * 2 * batch * queries * keys * inner;
    }

    ComponentCost build(String component, String input) {
        List<PartCost> out = new ArrayList<>();
        parts.forEach((name, p) -> out.add(new PartCost(name, p[PARAMS], p[CONV], p[LINEAR], p[ATTENTION])));
        return new ComponentCost(component, input, out);
    }
}
