package dev.mdx.nn;

import ai.djl.ndarray.NDArray;

/**
 * Receives named intermediate activations during a forward pass (the counterpart of a PyTorch forward hook).
 * Names are state-dict module paths such as {@code encoder.mid_block}, so they line up with golden debug tensors.
 * The arrays belong to the forward pass's scope manager; a probe that keeps one must copy or re-attach it.
 */
@FunctionalInterface
public interface ActivationProbe {
    /** A probe that ignores everything; forward passes use it when the caller passes none. */
    ActivationProbe NONE = (name, value) -> { };

    void record(String name, NDArray value);

    /** This probe with {@code prefix + "."} put in front of every name. */
    default ActivationProbe within(String prefix) {
        if (this == NONE) {
            return NONE;
        }
        return (name, value) -> record(prefix + "." + name, value);
    }
}
