package dev.mdx.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mdx.pipeline.RgbImage;

/** How far apart two images of the same size are. */
public final class ImageDiff {
    private ImageDiff() {}

    /** The largest difference of one 8-bit channel value. */
    public static int max(RgbImage a, RgbImage b) {
        assertEquals(a.width(), b.width(), "widths");
        assertEquals(a.height(), b.height(), "heights");
        int max = 0;
        for (int i = 0; i < a.rgb().length; i++) {
            max = Math.max(max, Math.abs((a.rgb()[i] & 0xff) - (b.rgb()[i] & 0xff)));
        }
        return max;
    }
}
