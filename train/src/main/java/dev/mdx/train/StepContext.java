package dev.mdx.train;

import ai.djl.ndarray.NDManager;

/**
 * What a loss function may use during one step: the scope that owns every array of the step, the run's
 * generator (noise, timesteps), the step about to be taken (0-based) and its learning rate.
 */
public record StepContext(long step, NDManager scope, Rng rng, double learningRate) {}
