package dev.mdx.nn;

import ai.djl.ndarray.NDArray;
import dev.mdx.tensor.ScriptedOps;

/**
 * A layer's weight and bias as bfloat16 copies for {@link dev.mdx.tensor.Precision#BF16}, made on first use and
 * again whenever the parameter holds another array (loading, LoRA fusing and restoring replace arrays, never
 * change them in place). The copies belong to the weight's manager, so they are freed with the weights.
 */
final class Bf16Weights {
    private NDArray source;
    private NDArray weight;
    private NDArray bias;

    /** {weight, bias} in bfloat16 for the fp32 {@code w} and {@code b} (b may be null, then so is its copy). */
    synchronized NDArray[] of(NDArray w, NDArray b) {
        if (w != source) {
            weight = ScriptedOps.toBf16(w, w);
            bias = b == null ? null : ScriptedOps.toBf16(b, w);
            source = w;
        }
        return new NDArray[] {weight, bias};
    }
}
