package dev.mdx.text;

import ai.djl.ndarray.NDArray;
import dev.mdx.io.EnumNames;
import dev.mdx.tensor.Ops;

/** The MLP activations a transformers CLIP text config may name in {@code hidden_act}. */
public enum ClipActivation {
    /** x * sigmoid(1.702 x), used by the OpenAI CLIP models (SD 1.x). */
    QUICK_GELU("quick_gelu"),
    /** Exact erf GELU, used by OpenCLIP models (SD 2.x). */
    GELU("gelu");

    private final String configName;

    ClipActivation(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public NDArray apply(NDArray x) {
        return this == QUICK_GELU ? Ops.quickGelu(x) : Ops.gelu(x);
    }

    /** The activation for a config value, or null when it is not supported. */
    public static ClipActivation fromConfigName(String name) {
        return EnumNames.find(values(), a -> a.configName, name);
    }
}
