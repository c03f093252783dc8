package dev.mdx.train;

/** Work done every {@code sample_every} steps and at the end of a run, e.g. writing a grid of samples. */
@FunctionalInterface
public interface TrainingHook {
    void onStep(HookContext context);
}
