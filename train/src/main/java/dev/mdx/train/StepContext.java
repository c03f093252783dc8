package dev.mdx.train;

import ai.djl.ndarray.NDManager;

/**
 * What a loss function may use during one step: the scope that owns every array of the step, the run's
 * generator (noise, timesteps), the step about to be taken (0-based), its learning rate, and the phase it trains
 * (0 unless the trainer was built with {@link TrainingPhase}s).
 */
public record StepContext(long step, NDManager scope, Rng rng, double learningRate, int phase) {
    public StepContext(long step, NDManager scope, Rng rng, double learningRate) {
        this(step, scope, rng, learningRate, 0);
    }
}
