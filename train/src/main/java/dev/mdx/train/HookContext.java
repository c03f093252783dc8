package dev.mdx.train;

import ai.djl.ndarray.NDManager;
import dev.mdx.nn.Module;
import dev.mdx.nn.Parameter;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What a periodic hook gets: the step just completed, the model with its raw weights, the EMA (null when off), the
 * output folder, a scope closed after the hook, and a generator derived from the seed and step, so sampling never
 * draws from (and never changes) the training stream.
 */
public record HookContext(long step, Module model, Map<String, Parameter> trainable, Ema ema, Path outDir,
        NDManager scope, Rng rng) {

    /** Runs {@code work} with the EMA weights in the model (the raw weights when EMA is off), then restores them. */
    public <T> T withEmaWeights(Supplier<T> work) {
        if (ema == null) {
            return work.get();
        }
        try (Ema.Swap swap = ema.swapInto(trainable)) {
            return work.get();
        }
    }
}
