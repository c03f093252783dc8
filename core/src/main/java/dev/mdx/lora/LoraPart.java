package dev.mdx.lora;

/** The model a LoRA layer belongs to, with the key prefixes that name it in each file format. */
public enum LoraPart {
    UNET("UNet", "lora_unet_", "unet."),
    TEXT_ENCODER("text encoder", "lora_te_", "text_encoder.");

    private final String displayName;
    private final String kohyaPrefix;
    private final String diffusersPrefix;

    LoraPart(String displayName, String kohyaPrefix, String diffusersPrefix) {
        this.displayName = displayName;
        this.kohyaPrefix = kohyaPrefix;
        this.diffusersPrefix = diffusersPrefix;
    }

    /** "UNet", "text encoder". */
    public String displayName() {
        return displayName;
    }

    /** kohya-ss / A1111: {@code lora_unet_}, {@code lora_te_}. */
    public String kohyaPrefix() {
        return kohyaPrefix;
    }

    /** diffusers' save_lora_weights: {@code unet.}, {@code text_encoder.}. */
    public String diffusersPrefix() {
        return diffusersPrefix;
    }
}
