package dev.mdx.sampling;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.tensor.NoiseSource;

/**
 * Replays the noise diffusers drew inside one step. Set before each step; a sampler may draw at most once per step,
 * and only on steps where diffusers drew.
 */
final class RecordedNoise implements NoiseSource {
    private float[] current;
    private boolean drawn;
    private String step;

    void set(String stepName, float[] noise) {
        this.step = stepName;
        this.current = noise;
        this.drawn = false;
    }

    boolean drawn() {
        return drawn;
    }

    @Override
    public NDArray gaussian(NDManager manager, Shape shape) {
        assertNotNull(current, step + ": sampler drew noise where diffusers drew none");
        assertFalse(drawn, step + ": sampler drew noise twice in one step");
        drawn = true;
        return manager.create(current, shape);
    }
}
