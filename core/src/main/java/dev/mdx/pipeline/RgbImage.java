package dev.mdx.pipeline;

import dev.mdx.io.PngWriter;
import java.nio.file.Path;
import java.util.Map;

/** An 8-bit RGB image, row-major H x W x 3. */
public record RgbImage(int width, int height, byte[] rgb) {
    public RgbImage {
        if (rgb.length != width * height * 3) {
            throw new IllegalArgumentException("expected " + width * height * 3 + " bytes, got " + rgb.length);
        }
    }

    public void writePng(Path file, Map<String, String> text) {
        PngWriter.write(file, rgb, width, height, text);
    }

    /** Mean of all channel values in [0, 255]; with {@link #stdDev()} a cheap check that an image is not blank. */
    public double mean() {
        double s = 0;
        for (byte b : rgb) {
            s += b & 0xff;
        }
        return s / rgb.length;
    }

    public double stdDev() {
        double m = mean();
        double s = 0;
        for (byte b : rgb) {
            double d = (b & 0xff) - m;
            s += d * d;
        }
        return Math.sqrt(s / rgb.length);
    }
}
