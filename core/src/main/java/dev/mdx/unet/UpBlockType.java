package dev.mdx.unet;

import dev.mdx.io.EnumNames;

/** The up block kinds of UNet2DConditionModel that SD 1.x/2.x use, by their diffusers names. */
public enum UpBlockType {
    UP_BLOCK_2D("UpBlock2D", false),
    CROSS_ATTN_UP_BLOCK_2D("CrossAttnUpBlock2D", true);

    private final String diffusersName;
    private final boolean hasAttention;

    UpBlockType(String diffusersName, boolean hasAttention) {
        this.diffusersName = diffusersName;
        this.hasAttention = hasAttention;
    }

    public String diffusersName() {
        return diffusersName;
    }

    /** Whether each resnet is followed by a Transformer2DModel. */
    public boolean hasAttention() {
        return hasAttention;
    }

    /** The kind named {@code name}, or null if unsupported. */
    public static UpBlockType fromDiffusersName(String name) {
        return EnumNames.find(values(), t -> t.diffusersName, name);
    }
}
