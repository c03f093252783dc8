package dev.mdx.train.eval;

import dev.mdx.pipeline.RgbImage;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A labelled table of images for the docs: one row per setting (its label on the left, one line per {@code \n}),
 * one column per example, every image enlarged without smoothing to {@code cell} pixels. A row without images is a
 * heading across the table.
 */
public final class ImageTable {
    private static final int GAP = 6;
    private static final int MIN_LABEL_W = 100;
    private static final int LINE = 13;
    private static final int HEADING = 22;

    /** A row: its label and images (none for a heading). */
    public record Row(String label, List<BufferedImage> images) {
        public static Row heading(String text) {
            return new Row(text, List.of());
        }

        public boolean isHeading() {
            return images.isEmpty();
        }
    }

    private ImageTable() {}

    /**
     * The table; {@code columns} are the column titles (empty for none), and every row that is not a heading has
     * at most as many images as the widest row.
     */
    public static BufferedImage render(List<String> columns, List<Row> rows, int cell) {
        int cols = Math.max(columns.size(), rows.stream().mapToInt(r -> r.images().size()).max().orElse(0));
        int header = columns.isEmpty() ? GAP : 30;
        int height = header;
        for (Row r : rows) {
            height += r.isHeading() ? HEADING : cell + GAP;
        }
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
        Font bold = font.deriveFont(Font.BOLD, 12f);
        // the label column fits the longest label line; the sheet fits the longest heading
        int labelW = MIN_LABEL_W;
        int headingW = 0;
        Graphics2D probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        try {
            FontMetrics plain = probe.getFontMetrics(font);
            FontMetrics strong = probe.getFontMetrics(bold);
            for (Row r : rows) {
                if (r.isHeading()) {
                    headingW = Math.max(headingW, 2 * GAP + strong.stringWidth(r.label()));
                } else {
                    for (String line : r.label().split("\n")) {
                        labelW = Math.max(labelW, 2 * GAP + plain.stringWidth(line));
                    }
                }
            }
        } finally {
            probe.dispose();
        }
        int width = Math.max(labelW + cols * (cell + GAP) + GAP, headingW);
        BufferedImage sheet = new BufferedImage(width, height + GAP, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = sheet.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, sheet.getWidth(), sheet.getHeight());
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION,
                    RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
            g.setColor(Color.BLACK);
            g.setFont(font);
            for (int c = 0; c < columns.size(); c++) {
                g.drawString(columns.get(c), labelW + c * (cell + GAP), header - 10);
            }
            int y = header;
            for (Row r : rows) {
                if (r.isHeading()) {
                    g.setFont(bold);
                    g.drawString(r.label(), GAP, y + HEADING - 6);
                    g.setFont(font);
                    y += HEADING;
                    continue;
                }
                String[] lines = r.label().split("\n");
                int top = y + (cell - lines.length * LINE) / 2 + LINE - 2;
                for (int l = 0; l < lines.length; l++) {
                    g.drawString(lines[l], GAP, top + l * LINE);
                }
                for (int c = 0; c < r.images().size(); c++) {
                    g.drawImage(r.images().get(c), labelW + c * (cell + GAP), y, cell, cell, null);
                }
                y += cell + GAP;
            }
        } finally {
            g.dispose();
        }
        return sheet;
    }

    public static void write(Path file, List<String> columns, List<Row> rows, int cell) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            ImageIO.write(render(columns, rows, cell), "png", file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** An 8-bit RGB image as a {@link BufferedImage}. */
    public static BufferedImage buffered(RgbImage image) {
        return buffered(image.rgb(), image.width(), image.height());
    }

    /** RGB bytes (H x W x 3) as a {@link BufferedImage}. */
    public static BufferedImage buffered(byte[] rgb, int width, int height) {
        BufferedImage b = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int p = (y * width + x) * 3;
                b.setRGB(x, y, (rgb[p] & 0xff) << 16 | (rgb[p + 1] & 0xff) << 8 | (rgb[p + 2] & 0xff));
            }
        }
        return b;
    }
}
