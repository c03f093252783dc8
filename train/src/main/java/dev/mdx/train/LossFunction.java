package dev.mdx.train;

import ai.djl.ndarray.NDArray;

/** Computes the scalar loss of a batch through the model; runs inside the gradient collector. */
@FunctionalInterface
public interface LossFunction<B> {
    /** A scalar (shape () or (1)) FLOAT32 loss owned by {@code ctx.scope()}. */
    NDArray loss(B batch, StepContext ctx);
}
