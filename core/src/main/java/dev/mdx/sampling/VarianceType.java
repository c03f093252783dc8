package dev.mdx.sampling;

import dev.mdx.schedule.JsonNamed;

/** The DDPM reverse-step variance: diffusers' {@code variance_type} (only the fixed, not learned, kinds). */
public enum VarianceType implements JsonNamed {
    /** The posterior variance beta~_t = (1 - a_{t-1}) / (1 - a_t) beta_t (Ho et al. 2020, eq. 7). */
    FIXED_SMALL("fixed_small"),
    /** The same variance, passed through log and exp as the original DDPM code does. */
    FIXED_SMALL_LOG("fixed_small_log");

    private final String jsonName;

    VarianceType(String jsonName) {
        this.jsonName = jsonName;
    }

    @Override
    public String jsonName() {
        return jsonName;
    }
}
