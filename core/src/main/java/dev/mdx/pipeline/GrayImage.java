package dev.mdx.pipeline;

/** An 8-bit single-channel image, row-major H x W: an inpainting mask (255 = repaint, 0 = keep). */
public record GrayImage(int width, int height, byte[] values) {
    public GrayImage {
        if (width < 1 || height < 1 || values.length != width * height) {
            throw new IllegalArgumentException("expected " + width + " x " + height + " values, got " + values.length);
        }
    }

    /** The value at column x, row y, in [0, 255]. */
    public int at(int x, int y) {
        return values[y * width + x] & 0xff;
    }

    /** A mask of one value everywhere. */
    public static GrayImage filled(int width, int height, int value) {
        byte[] v = new byte[width * height];
        java.util.Arrays.fill(v, (byte) value);
        return new GrayImage(width, height, v);
    }
}
