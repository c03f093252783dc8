package dev.mdx.export;

import dev.mdx.io.EnumNames;

/** How an exported graph stores its weights; inputs, outputs and arithmetic are float32 in both. */
public enum OnnxPrecision {
    /** float32 weights: the same numbers mdx computes with. */
    FP32("fp32"),
    /** float16 weights (half the file), cast to float32 when the graph loads. */
    FP16("fp16");

    private final String cliName;

    OnnxPrecision(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** The precision named {@code name} ("fp32" or "fp16"), or null. */
    public static OnnxPrecision fromCliName(String name) {
        return EnumNames.find(values(), p -> p.cliName, name);
    }
}
