package dev.mdx.schedule;

import ai.djl.ndarray.NDArray;

/**
 * Conversions between the three things a denoiser can predict, for x_t = alpha x0 + sigma eps with alpha =
 * sqrt(a_t), sigma = sqrt(1 - a_t) (variance preserving, alpha^2 + sigma^2 = 1):
 *
 * <pre>
 *   x0  = (x_t - sigma eps) / alpha        eps = (x_t - alpha x0) / sigma
 *   v   = alpha eps - sigma x0             x0  = alpha x_t - sigma v        eps = alpha v + sigma x_t
 * </pre>
 *
 * Results of {@link #toX0}, {@link #toEpsilon} and {@link #toV} live in the manager of the sample x_t, those of the
 * single formulas in the manager of their first argument; intermediates are closed. Scalars are float32, and the operation order is diffusers', so results match its schedulers bit for bit.
 */
public final class Parameterization {
    private Parameterization() {}

    /** alpha = sqrt(a_t) in float32. */
    public static float alpha(float alphaCumprod) {
        return TorchFloat32.sqrt(alphaCumprod);
    }

    /** sigma = sqrt(1 - a_t) in float32. */
    public static float sigma(float alphaCumprod) {
        return TorchFloat32.sqrt(1f - alphaCumprod);
    }

    /** The x0 a model output of the given type implies for the noisy sample x_t. */
    public static NDArray toX0(PredictionType type, NDArray modelOutput, NDArray sample, float alpha, float sigma) {
        return switch (type) {
            case EPSILON -> x0FromEpsilon(sample, modelOutput, alpha, sigma);
            case V_PREDICTION -> x0FromV(sample, modelOutput, alpha, sigma);
            case SAMPLE -> ownedBy(modelOutput.duplicate(), sample);
        };
    }

    /** The eps a model output of the given type implies for the noisy sample x_t. */
    public static NDArray toEpsilon(PredictionType type, NDArray modelOutput, NDArray sample, float alpha,
            float sigma) {
        return switch (type) {
            case EPSILON -> ownedBy(modelOutput.duplicate(), sample);
            case V_PREDICTION -> epsilonFromV(sample, modelOutput, alpha, sigma);
            case SAMPLE -> epsilonFromX0(sample, modelOutput, alpha, sigma);
        };
    }

    /** The v a model output of the given type implies for the noisy sample x_t. */
    public static NDArray toV(PredictionType type, NDArray modelOutput, NDArray sample, float alpha, float sigma) {
        return switch (type) {
            case EPSILON -> {
                try (NDArray x0 = x0FromEpsilon(sample, modelOutput, alpha, sigma)) {
                    yield ownedBy(vFrom(modelOutput, x0, alpha, sigma), sample);
                }
            }
            case V_PREDICTION -> ownedBy(modelOutput.duplicate(), sample);
            case SAMPLE -> {
                try (NDArray eps = epsilonFromX0(sample, modelOutput, alpha, sigma)) {
                    yield ownedBy(vFrom(eps, modelOutput, alpha, sigma), sample);
                }
            }
        };
    }

    /** x0 = (x_t - sigma eps) / alpha. */
    public static NDArray x0FromEpsilon(NDArray sample, NDArray eps, float alpha, float sigma) {
        try (NDArray scaled = eps.mul(sigma); NDArray diff = sample.sub(scaled)) {
            return diff.div(alpha);
        }
    }

    /** eps = (x_t - alpha x0) / sigma. */
    public static NDArray epsilonFromX0(NDArray sample, NDArray x0, float alpha, float sigma) {
        try (NDArray scaled = x0.mul(alpha); NDArray diff = sample.sub(scaled)) {
            return diff.div(sigma);
        }
    }

    /** x0 = alpha x_t - sigma v. */
    public static NDArray x0FromV(NDArray sample, NDArray v, float alpha, float sigma) {
        try (NDArray a = sample.mul(alpha); NDArray b = v.mul(sigma)) {
            return a.sub(b);
        }
    }

    /** eps = alpha v + sigma x_t. */
    public static NDArray epsilonFromV(NDArray sample, NDArray v, float alpha, float sigma) {
        try (NDArray a = v.mul(alpha); NDArray b = sample.mul(sigma)) {
            return b.add(a);
        }
    }

    /** v = alpha eps - sigma x0 (in the manager of eps). */
    public static NDArray vFrom(NDArray eps, NDArray x0, float alpha, float sigma) {
        try (NDArray a = eps.mul(alpha); NDArray b = x0.mul(sigma)) {
            return a.sub(b);
        }
    }

    private static NDArray ownedBy(NDArray result, NDArray owner) {
        if (result.getManager() != owner.getManager()) {
            result.attach(owner.getManager());
        }
        return result;
    }
}
