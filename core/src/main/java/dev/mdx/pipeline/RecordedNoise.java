package dev.mdx.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.tensor.NoiseSource;
import java.util.Arrays;

/**
 * Standard-normal draws given instead of drawn from the seeds, for parity with a reference that recorded its own:
 * each array holds all images of the batch, (batchCount, C, h, w) in C order; null draws from the image's seed.
 *
 * @param initial the starting noise (diffusers' {@code latents=}, or an edit's add_noise noise)
 * @param vaeImage the noise of the init image's posterior sample
 * @param vaeMasked the noise of the masked image's posterior sample (an inpainting UNet)
 */
record RecordedNoise(float[] initial, float[] vaeImage, float[] vaeMasked) {
    static final RecordedNoise NONE = new RecordedNoise(null, null, null);

    static RecordedNoise initial(float[] noise) {
        return new RecordedNoise(noise, null, null);
    }

    /** Fails clearly when a recording does not hold {@code images} draws of {@code shape}. */
    void check(int images, Shape shape) {
        for (float[] a : new float[][] {initial, vaeImage, vaeMasked}) {
            if (a != null && a.length != images * shape.size()) {
                throw new IllegalArgumentException("recorded noise has " + a.length + " values; " + images
                        + " images of " + shape + " need " + images * shape.size());
            }
        }
    }

    /** Image k's part of {@code recorded}, or the next draw of its noise source. */
    static NDArray draw(float[] recorded, int k, Shape shape, NoiseSource source, NDManager scope) {
        if (recorded == null) {
            return source.gaussian(scope, shape);
        }
        int n = Math.toIntExact(shape.size());
        return scope.create(Arrays.copyOfRange(recorded, k * n, (k + 1) * n), shape);
    }
}
