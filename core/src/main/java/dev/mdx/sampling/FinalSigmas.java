package dev.mdx.sampling;

import dev.mdx.schedule.JsonNamed;

/** The sigma DPM-Solver++ steps to on its last step: diffusers' {@code final_sigmas_type}. */
public enum FinalSigmas implements JsonNamed {
    /** The smallest training sigma, sqrt((1 - a_0) / a_0) (diffusers 0.25 behaviour, our default). */
    SIGMA_MIN("sigma_min"),
    /** Zero: the last step returns the denoised estimate; forces a first-order last step (later diffusers). */
    ZERO("zero");

    private final String jsonName;

    FinalSigmas(String jsonName) {
        this.jsonName = jsonName;
    }

    @Override
    public String jsonName() {
        return jsonName;
    }
}
