package dev.mdx.sampling;

import ai.djl.ndarray.NDArray;

/**
 * The outcome of one sampler step, both arrays new and owned by the manager of the sample passed in.
 *
 * @param prevSample the sample for the next step (the final image latent after the last step)
 * @param denoised the step's estimate of the clean sample: diffusers' pred_original_sample (LCM: its boundary-
 *     conditioned {@code denoised}; DPM-Solver++: the converted data prediction); cheap to preview
 */
public record StepResult(NDArray prevSample, NDArray denoised) implements AutoCloseable {
    @Override
    public void close() {
        prevSample.close();
        denoised.close();
    }
}
