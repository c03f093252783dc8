package dev.mdx.train;

import ai.djl.ndarray.NDArray;

/**
 * A loss that asks its trainer to stop during one step, as Ctrl-C would: the loop finishes that step and writes a
 * checkpoint. The trainer is built with this loss, so it is attached afterwards.
 */
public final class StopDuringStep<B> implements LossFunction<B> {
    private final LossFunction<B> inner;
    private final long step;
    private Trainer<B> trainer;

    /** @param step the 0-based step ({@link StepContext#step()}) during which the stop is requested */
    public StopDuringStep(LossFunction<B> inner, long step) {
        this.inner = inner;
        this.step = step;
    }

    public void attach(Trainer<B> trainer) {
        this.trainer = trainer;
    }

    @Override
    public NDArray loss(B batch, StepContext ctx) {
        if (ctx.step() == step) {
            trainer.requestStop();
        }
        return inner.loss(batch, ctx);
    }
}
