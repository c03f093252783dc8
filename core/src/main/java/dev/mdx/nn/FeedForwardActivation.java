package dev.mdx.nn;

import dev.mdx.io.EnumNames;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The activation of a transformer feed-forward, by its diffusers name. */
public enum FeedForwardActivation {
    /** a * gelu_erf(g), [a, g] = halves of a projection to 2 * inner (Stable Diffusion). */
    GEGLU("geglu", true),
    /** a * silu(g), [a, g] = halves of a projection to 2 * inner (MobileDiffusion T4). */
    SWIGLU("swiglu", true),
    /** gelu_erf(x W) with a projection to inner. */
    GELU("gelu", false);

    private final String configName;
    private final boolean gated;

    FeedForwardActivation(String configName, boolean gated) {
        this.configName = configName;
        this.gated = gated;
    }

    public String configName() {
        return configName;
    }

    /** Whether the input projection produces a value half and a gate half. */
    public boolean gated() {
        return gated;
    }

    /** The activation named {@code name}, or null if there is none. */
    public static FeedForwardActivation fromConfigName(String name) {
        return EnumNames.find(values(), a -> a.configName, name);
    }

    public static String allNames() {
        return Arrays.stream(values()).map(FeedForwardActivation::configName).collect(Collectors.joining(", "));
    }
}
