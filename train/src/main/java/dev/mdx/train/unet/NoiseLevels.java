package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.schedule.NoiseSchedule;

/**
 * Per-example noise levels of a batch, as (B, 1, 1, 1) arrays for x_t = alpha x_0 + sigma eps with alpha =
 * sqrt(a_t), sigma = sqrt(1 - a_t). Every product with them is an array product, which is safe on gradient paths
 * (unlike DJL's mul(Number), see Ops).
 *
 * @param t the timesteps; a negative one means "past the end of the chain" and takes {@code finalAlphaCumprod}
 */
record NoiseLevels(int[] t, float[] alphaCumprod, NDArray alpha, NDArray sigma) {
    static NoiseLevels of(NoiseSchedule schedule, int[] t, float finalAlphaCumprod, NDManager scope) {
        int b = t.length;
        float[] a = new float[b];
        float[] al = new float[b];
        float[] si = new float[b];
        for (int i = 0; i < b; i++) {
            a[i] = t[i] >= 0 ? schedule.alphaCumprod(t[i]) : finalAlphaCumprod;
            al[i] = (float) Math.sqrt(a[i]);
            si[i] = (float) Math.sqrt(1 - a[i]);
        }
        Shape s = new Shape(b, 1, 1, 1);
        return new NoiseLevels(t.clone(), a, scope.create(al, s), scope.create(si, s));
    }

    /** The timesteps as the UNet's (B,) float input (negative ones clamped to 0). */
    NDArray timesteps(NDManager scope) {
        float[] f = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            f[i] = Math.max(t[i], 0);
        }
        return scope.create(f);
    }

    /** alpha x0 + sigma eps. */
    NDArray noise(NDArray x0, NDArray eps) {
        return x0.mul(alpha).add(eps.mul(sigma));
    }

    /** v = alpha eps - sigma x0. */
    NDArray v(NDArray x0, NDArray eps) {
        return eps.mul(alpha).sub(x0.mul(sigma));
    }

    /** The clean sample a model output of the given type implies for x_t (gradient-safe). */
    NDArray x0(dev.mdx.schedule.PredictionType type, NDArray output, NDArray xt) {
        return switch (type) {
            case EPSILON -> xt.sub(output.mul(sigma)).div(alpha);
            case V_PREDICTION -> xt.mul(alpha).sub(output.mul(sigma));
            case SAMPLE -> output;
        };
    }

    /** The noise a model output of the given type implies for x_t (gradient-safe). */
    NDArray eps(dev.mdx.schedule.PredictionType type, NDArray output, NDArray xt) {
        return switch (type) {
            case EPSILON -> output;
            case V_PREDICTION -> output.mul(alpha).add(xt.mul(sigma));
            case SAMPLE -> xt.sub(output.mul(alpha)).div(sigma);
        };
    }

    /** The target of the denoising loss for a model predicting {@code type}. */
    NDArray target(dev.mdx.schedule.PredictionType type, NDArray x0, NDArray eps) {
        return switch (type) {
            case EPSILON -> eps;
            case V_PREDICTION -> v(x0, eps);
            case SAMPLE -> x0;
        };
    }
}
