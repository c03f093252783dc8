package dev.mdx.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;

/** Conversions between decoder outputs and 8-bit images, as diffusers' image processor does them. */
public final class Images {
    private Images() {}

    /** (B, 3, H, W) in [-1, 1] -> (B, H, W, 3) in [0, 1], i.e. clamp(x / 2 + 0.5, 0, 1). */
    public static NDArray toUnitRange(NDArray decoded) {
        return decoded.div(2f).add(0.5f).clip(0f, 1f).transpose(0, 2, 3, 1);
    }

    /** (B, 3, H, W) in [-1, 1] -> images, rounding x * 255 to the nearest integer. */
    public static List<RgbImage> toRgb(NDArray decoded) {
        NDArray unit = toUnitRange(decoded);
        long b = unit.getShape().get(0);
        int h = (int) unit.getShape().get(1);
        int w = (int) unit.getShape().get(2);
        float[] v = unit.toType(DataType.FLOAT32, false).toFloatArray();
        List<RgbImage> out = new ArrayList<>();
        int per = h * w * 3;
        for (int i = 0; i < b; i++) {
            byte[] rgb = new byte[per];
            for (int j = 0; j < per; j++) {
                rgb[j] = (byte) Math.round(v[i * per + j] * 255f);
            }
            out.add(new RgbImage(w, h, rgb));
        }
        return out;
    }

    /** Images -> (B, 3, H, W) floats in [-1, 1]; the inverse of {@link #toRgb} up to rounding. */
    public static float[] toSigned(List<RgbImage> images) {
        RgbImage first = images.get(0);
        int hw = first.width() * first.height();
        float[] out = new float[images.size() * 3 * hw];
        for (int i = 0; i < images.size(); i++) {
            byte[] rgb = images.get(i).rgb();
            for (int p = 0; p < hw; p++) {
                for (int c = 0; c < 3; c++) {
                    out[(i * 3 + c) * hw + p] = (rgb[p * 3 + c] & 0xff) / 127.5f - 1f;
                }
            }
        }
        return out;
    }
}
