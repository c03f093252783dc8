package dev.mdx.schedule;

/** How betas are laid out over the training timesteps: diffusers' {@code beta_schedule}. */
public enum BetaSchedule implements JsonNamed {
    LINEAR("linear"),
    /** Linear in sqrt(beta), then squared: Stable Diffusion's schedule. */
    SCALED_LINEAR("scaled_linear"),
    /** The Glide / improved-DDPM cosine schedule, betas capped at 0.999. */
    SQUAREDCOS_CAP_V2("squaredcos_cap_v2"),
    /** GeoDiff: sigmoid over linspace(-6, 6) rescaled to [beta_start, beta_end]. */
    SIGMOID("sigmoid");

    private final String jsonName;

    BetaSchedule(String jsonName) {
        this.jsonName = jsonName;
    }

    @Override
    public String jsonName() {
        return jsonName;
    }
}
