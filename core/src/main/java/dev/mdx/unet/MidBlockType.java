package dev.mdx.unet;

import dev.mdx.io.EnumNames;

/** The mid block kinds supported, by their diffusers names. */
public enum MidBlockType {
    /** resnet, then (Transformer2DModel, resnet). */
    UNET_MID_BLOCK_2D_CROSS_ATTN("UNetMidBlock2DCrossAttn");

    private final String diffusersName;

    MidBlockType(String diffusersName) {
        this.diffusersName = diffusersName;
    }

    public String diffusersName() {
        return diffusersName;
    }

    /** The kind named {@code name}, or null if unsupported. */
    public static MidBlockType fromDiffusersName(String name) {
        return EnumNames.find(values(), t -> t.diffusersName, name);
    }
}
