package dev.mdx.sampling;

import ai.djl.ndarray.NDArray;
import java.util.Arrays;
import java.util.Objects;

/**
 * Everything a sampler decides up front for one run of n steps: the timesteps fed to the model, the sigma grid (for
 * sigma-based samplers; it has n + 1 entries, the last being where the final step lands), the scale of the initial
 * noise and the model-input scaling per step. Immutable; made by {@link Sampler#plan(int)} and only valid with the
 * sampler that made it.
 */
public final class SamplingPlan {
    private final Sampler owner;
    private final float[] timesteps;
    private final float[] sigmas;
    private final float initNoiseSigma;
    private final float[] inputDivisors;

    SamplingPlan(Sampler owner, float[] timesteps, float[] sigmas, float initNoiseSigma, float[] inputDivisors) {
        if (timesteps.length == 0 || inputDivisors.length != timesteps.length
                || (sigmas != null && sigmas.length != timesteps.length + 1)) {
            throw new IllegalArgumentException("inconsistent plan: " + timesteps.length + " timesteps, "
                    + (sigmas == null ? "no" : sigmas.length) + " sigmas, " + inputDivisors.length + " divisors");
        }
        this.owner = owner;
        this.timesteps = timesteps.clone();
        this.sigmas = sigmas == null ? null : sigmas.clone();
        this.initNoiseSigma = initNoiseSigma;
        this.inputDivisors = inputDivisors.clone();
    }

    public SamplerKind kind() {
        return owner.kind();
    }

    /** The number of model evaluations (steps). */
    public int size() {
        return timesteps.length;
    }

    /** The timestep given to the model at step {@code index} (fractional for Euler's linspace grid). */
    public float timestep(int index) {
        return timesteps[index];
    }

    public float[] timesteps() {
        return timesteps.clone();
    }

    /** The timestep of step {@code index} as a training-timestep index, for the integer-grid samplers. */
    int discreteTimestep(int index) {
        float t = timesteps[index];
        if (t != Math.rint(t)) {
            throw new IllegalStateException("timestep " + t + " of step " + index + " is not an integer");
        }
        return (int) t;
    }

    public boolean hasSigmas() {
        return sigmas != null;
    }

    /** The sigma grid, n + 1 values; throws for samplers that do not use sigmas (DDPM, DDIM, LCM, UFOGen). */
    public float[] sigmas() {
        return requireSigmas().clone();
    }

    public float sigma(int index) {
        return requireSigmas()[index];
    }

    /** The standard deviation of the initial noise: the first sample is initNoiseSigma * N(0, I). */
    public float initNoiseSigma() {
        return initNoiseSigma;
    }

    /** The factor scale_model_input applies at step {@code index} (1 / sqrt(sigma^2 + 1) for Euler, else 1). */
    public float modelInputScale(int index) {
        return 1f / inputDivisors[index];
    }

    /** The model input of step {@code index}: a new array (in the sample's manager) sample / sqrt(sigma^2 + 1). */
    public NDArray scaleModelInput(int index, NDArray sample) {
        return sample.div(inputDivisors[index]);
    }

    /** The first sample of the run from standard-normal noise (a new array in the noise's manager). */
    public NDArray initialSample(NDArray standardNoise) {
        return standardNoise.mul(initNoiseSigma);
    }

    /** The sample of step {@code index} for a clean sample x0 and standard-normal noise (see {@link Sampler#addNoise}). */
    public NDArray addNoise(int index, NDArray x0, NDArray noise) {
        Objects.checkIndex(index, timesteps.length);
        return owner.addNoise(this, index, x0, noise);
    }

    boolean isFrom(Sampler sampler) {
        return owner == sampler;
    }

    private float[] requireSigmas() {
        if (sigmas == null) {
            throw new IllegalStateException(owner.kind() + " does not use a sigma grid");
        }
        return sigmas;
    }

    @Override
    public String toString() {
        return owner.kind() + " plan, " + timesteps.length + " steps, timesteps " + Arrays.toString(timesteps)
                + (sigmas == null ? "" : ", sigmas " + Arrays.toString(sigmas)) + ", init noise sigma "
                + initNoiseSigma;
    }
}
