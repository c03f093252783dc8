package dev.mdx.pipeline;

import java.util.Objects;

/**
 * The image a request edits, and how: image to image (SDEdit, Meng et al. 2021; diffusers'
 * StableDiffusionImg2ImgPipeline), inpainting with a mask (diffusers' StableDiffusionInpaintPipeline) or
 * outpainting (the canvas grown by {@code outpaint} and the new border inpainted).
 *
 * @param image the starting image; resized and centre-cropped to the request's size when it differs
 * @param mask white (255) where to repaint, black (0) where to keep, the image's size; null for image to image
 * @param strength how far the image is noised before denoising, in [0, 1]: 0 returns it through the VAE, 1 starts
 *     (almost) from noise; null for the default (0.75 for image to image, 1 for inpainting and outpainting)
 * @param maskBlur pixels of feathering inside the mask's edge when the result is pasted over the original
 * @param pasteBack whether the original pixels are pasted back outside the mask, so they are bit-identical to the
 *     input (diffusers returns the decoded image instead)
 * @param outpaint the border to add and paint, or null
 */
public record ImageEdit(RgbImage image, GrayImage mask, Double strength, int maskBlur, boolean pasteBack,
        Padding outpaint) {
    /** diffusers' img2img default strength is 0.8; A1111's denoising strength 0.75. */
    public static final double IMG2IMG_STRENGTH = 0.75;
    public static final int DEFAULT_MASK_BLUR = 4;
    /** The largest feathering, in pixels. */
    public static final int MAX_MASK_BLUR = 64;

    public ImageEdit {
        Objects.requireNonNull(image, "image");
        if (strength != null && !(strength >= 0 && strength <= 1)) {
            throw new InvalidRequestException("strength", "must be between 0 and 1, got " + strength);
        }
        if (maskBlur < 0 || maskBlur > MAX_MASK_BLUR) {
            throw new InvalidRequestException("maskBlur", "must be between 0 and " + MAX_MASK_BLUR + " pixels, got "
                    + maskBlur);
        }
        if (mask != null && outpaint != null) {
            throw new InvalidRequestException("mask", "cannot be combined with outpaint, which masks the new border"
                    + " itself");
        }
        if (mask != null && (mask.width() != image.width() || mask.height() != image.height())) {
            throw new InvalidRequestException("mask", "is " + mask.width() + "x" + mask.height() + " but the image is "
                    + image.width() + "x" + image.height() + "; they must be the same size");
        }
    }

    /** Image to image at {@code strength} (null for the default). */
    public static ImageEdit img2img(RgbImage image, Double strength) {
        return new ImageEdit(image, null, strength, DEFAULT_MASK_BLUR, true, null);
    }

    /** Whether a mask limits the change (inpainting, outpainting). */
    public boolean masked() {
        return mask != null || outpaint != null;
    }

    /** The strength the run uses. */
    public double strengthOrDefault() {
        return strength != null ? strength : masked() ? 1.0 : IMG2IMG_STRENGTH;
    }
}
