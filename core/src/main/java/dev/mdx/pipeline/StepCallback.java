package dev.mdx.pipeline;

/**
 * Called on the generating thread after every sampler step of every image: progress, an optional preview and the
 * chance to cancel ({@link StepEvent#cancel()}, after which {@code generate} frees the run's memory and throws
 * {@link GenerationCancelledException} carrying the images already finished). An exception thrown here ends the run
 * the same way and propagates as it is.
 */
@FunctionalInterface
public interface StepCallback {
    StepCallback NONE = event -> { };

    void onStep(StepEvent event);
}
