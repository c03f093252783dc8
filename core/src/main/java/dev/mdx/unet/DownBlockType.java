package dev.mdx.unet;

import dev.mdx.io.EnumNames;

/** The down block kinds of UNet2DConditionModel that SD 1.x/2.x use, by their diffusers names. */
public enum DownBlockType {
    CROSS_ATTN_DOWN_BLOCK_2D("CrossAttnDownBlock2D", true),
    DOWN_BLOCK_2D("DownBlock2D", false);

    private final String diffusersName;
    private final boolean hasAttention;

    DownBlockType(String diffusersName, boolean hasAttention) {
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
    public static DownBlockType fromDiffusersName(String name) {
        return EnumNames.find(values(), t -> t.diffusersName, name);
    }
}
