package dev.mdx.sampling;

/**
 * Where an image-to-image run enters a sampling plan: steps {@code start} .. {@code plan.size() - 1} run, from the
 * encoded image noised to the timestep of step {@code start} ({@link SamplingPlan#addNoise}); {@code start ==
 * plan.size()} runs none (strength 0: the image only makes the round trip through the VAE).
 */
public record EditStart(SamplingPlan plan, int start) {
    public EditStart {
        if (start < 0 || start > plan.size()) {
            throw new IllegalArgumentException("start " + start + " outside the plan's " + plan.size() + " steps");
        }
    }

    /** Model evaluations the run makes. */
    public int steps() {
        return plan.size() - start;
    }
}
