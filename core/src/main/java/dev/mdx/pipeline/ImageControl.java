package dev.mdx.pipeline;

import dev.mdx.control.ConditionType;
import java.nio.file.Path;

/**
 * A request's spatial control through a control adapter: a ready condition map (white edges or a white silhouette
 * on black, the output's size), or a photo to extract one from, and how strongly the adapter's features are added.
 *
 * @param map a ready condition map of the output's size, or null to extract one from {@code source}
 * @param source a photo whose condition map is extracted (after fitting it to the output's size), or null
 * @param type the condition to extract from {@code source} and the adapter to pick; null takes the adapter's
 * @param scale multiplies the adapter's features: 0 turns the control off, 1 is as trained
 * @param adapter the adapter file; null picks the model's ({@code MODEL/adapters/TYPE.safetensors})
 */
public record ImageControl(GrayImage map, RgbImage source, ConditionType type, double scale, Path adapter) {
    public static final double DEFAULT_SCALE = 1.0;

    public ImageControl {
        if ((map == null) == (source == null)) {
            throw new InvalidRequestException("control", "needs exactly one of a condition map and a source image");
        }
        if (!(scale >= 0) || Double.isInfinite(scale)) {
            throw new InvalidRequestException("controlScale", "must be a number >= 0, got " + scale);
        }
    }

    /** A ready condition map, driven by the model's adapter (of {@code type} when not null). */
    public static ImageControl map(GrayImage map, ConditionType type, double scale) {
        return new ImageControl(map, null, type, scale, null);
    }

    /** A photo whose {@code type} map (null: the adapter's) is extracted and drives the model's adapter. */
    public static ImageControl extract(RgbImage source, ConditionType type, double scale) {
        return new ImageControl(null, source, type, scale, null);
    }

    /**
     * A condition map file (PNG, JPEG, ...): grey, white edges or a white silhouette on black. A file with colour
     * is refused: it is a photo (extract its map with {@link #extract}) or a map of another kind.
     */
    public static GrayImage readMap(Path file) {
        return toMap(EditImages.readRgb(file, "control image"), "image " + file);
    }

    /** A decoded condition map as grey; one with colour is refused as {@link #readMap} says ({@code what} names it). */
    public static GrayImage toMap(RgbImage image, String what) {
        byte[] rgb = image.rgb();
        for (int i = 0; i < rgb.length; i += 3) {
            int r = rgb[i] & 0xff;
            int g = rgb[i + 1] & 0xff;
            int b = rgb[i + 2] & 0xff;
            if (Math.max(Math.abs(r - g), Math.max(Math.abs(g - b), Math.abs(r - b))) > GREY_TOLERANCE) {
                throw new InvalidRequestException("control", what + " has colour (3 channels) but a condition map"
                        + " has one: white edges or a white silhouette on black; to extract one from a photo name its"
                        + " condition type");
            }
        }
        return EditImages.luminance(image);
    }

    /** Channel differences a grey map may have (JPEG noise). */
    private static final int GREY_TOLERANCE = 8;

    /** This control driven by {@code file} instead of the model's adapter. */
    public ImageControl withAdapter(Path file) {
        return new ImageControl(map, source, type, scale, file);
    }
}
