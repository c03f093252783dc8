package dev.mdx.schedule;

/**
 * How n inference timesteps are picked from the training timesteps: diffusers' {@code timestep_spacing}, Table 2 of
 * "Common Diffusion Noise Schedules and Sample Steps are Flawed" (arXiv 2305.08891).
 */
public enum TimestepSpacing implements JsonNamed {
    /** arange(n) * (N // n), reversed, plus steps_offset: the last timestep is small, the first is below N - 1. */
    LEADING("leading"),
    /** round(arange(N, 0, -N / n)) - 1: starts at N - 1. */
    TRAILING("trailing"),
    /** linspace(0, N - 1, n) (rounded for integer samplers), reversed. */
    LINSPACE("linspace");

    private final String jsonName;

    TimestepSpacing(String jsonName) {
        this.jsonName = jsonName;
    }

    @Override
    public String jsonName() {
        return jsonName;
    }
}
