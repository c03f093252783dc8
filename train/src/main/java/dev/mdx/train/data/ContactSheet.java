package dev.mdx.train.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** A PNG grid of data set images, to check by eye what a build produced. */
public final class ContactSheet {
    private static final int GAP = 2;
    private static final int GAP_RGB = 0x808080;

    private ContactSheet() {}

    /** A grid with {@code columns} images a row, each pixel drawn as a {@code scale}x{@code scale} block. */
    public static BufferedImage render(ImageDataset data, int[] indices, int columns, int scale) {
        if (columns < 1 || scale < 1) {
            throw new IllegalArgumentException("columns and scale must be positive, got " + columns + " and " + scale);
        }
        int w = data.width() * scale;
        int h = data.height() * scale;
        int c = data.channels();
        int rows = (indices.length + columns - 1) / columns;
        BufferedImage sheet = new BufferedImage(columns * (w + GAP) + GAP, rows * (h + GAP) + GAP, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < sheet.getHeight(); y++) {
            for (int x = 0; x < sheet.getWidth(); x++) {
                sheet.setRGB(x, y, GAP_RGB);
            }
        }
        for (int k = 0; k < indices.length; k++) {
            byte[] px = data.pixels(indices[k]);
            int ox = GAP + (k % columns) * (w + GAP);
            int oy = GAP + (k / columns) * (h + GAP);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int p = ((y / scale) * data.width() + x / scale) * c;
                    int r = px[p] & 0xff;
                    int g = c == 3 ? px[p + 1] & 0xff : r;
                    int b = c == 3 ? px[p + 2] & 0xff : r;
                    sheet.setRGB(ox + x, oy + y, (r << 16) | (g << 8) | b);
                }
            }
        }
        return sheet;
    }

    public static void write(ImageDataset data, int[] indices, int columns, int scale, Path png) {
        try {
            Path parent = png.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            ImageIO.write(render(data, indices, columns, scale), "png", png.toFile());
        } catch (IOException e) {
            throw new DatasetException("cannot write " + png + ": " + e.getMessage(), e);
        }
    }
}
