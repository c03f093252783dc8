package dev.mdx.train;

import dev.mdx.io.PngWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Tiles equally sized RGB images row by row into one grid image, e.g. the samples of a training step. */
public final class SampleGrid {
    private SampleGrid() {}

    /** The grid's size in pixels. */
    public record Size(int width, int height) {}

    /**
     * Size of a grid of {@code count} cells of {@code width x height}, {@code columns} per row (fewer if there are
     * fewer images), with {@code padding} pixels between cells.
     */
    public static Size size(int count, int width, int height, int columns, int padding) {
        int cols = Math.min(columns, count);
        int rows = (count + cols - 1) / cols;
        return new Size(cols * width + (cols - 1) * padding, rows * height + (rows - 1) * padding);
    }

    /**
     * Tiles {@code images} (each row-major H x W x 3 bytes) into one RGB image; the padding and any empty cells of
     * the last row are black.
     */
    public static byte[] tile(List<byte[]> images, int width, int height, int columns, int padding) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no images to tile");
        }
        if (width <= 0 || height <= 0 || columns <= 0 || padding < 0) {
            throw new IllegalArgumentException("need positive width, height, columns and padding >= 0, got "
                    + width + ", " + height + ", " + columns + ", " + padding);
        }
        int cellBytes = width * height * 3;
        for (int i = 0; i < images.size(); i++) {
            if (images.get(i).length != cellBytes) {
                throw new IllegalArgumentException("image " + i + " has " + images.get(i).length
                        + " bytes; a " + width + "x" + height + " RGB image has " + cellBytes);
            }
        }
        Size grid = size(images.size(), width, height, columns, padding);
        int cols = Math.min(columns, images.size());
        byte[] out = new byte[grid.width() * grid.height() * 3];
        for (int i = 0; i < images.size(); i++) {
            int x0 = (i % cols) * (width + padding);
            int y0 = (i / cols) * (height + padding);
            byte[] img = images.get(i);
            for (int y = 0; y < height; y++) {
                System.arraycopy(img, y * width * 3, out, ((y0 + y) * grid.width() + x0) * 3, width * 3);
            }
        }
        return out;
    }

    /** Tiles {@code images} and writes the grid as a PNG (atomically) with the given text chunks. */
    public static Size write(Path file, List<byte[]> images, int width, int height, int columns, int padding,
            Map<String, String> text) {
        byte[] rgb = tile(images, width, height, columns, padding);
        Size grid = size(images.size(), width, height, columns, padding);
        PngWriter.write(file, rgb, grid.width(), grid.height(), text);
        return grid;
    }
}
