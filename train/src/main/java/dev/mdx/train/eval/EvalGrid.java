package dev.mdx.train.eval;

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
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A sample sheet of an evaluation: one band per prompt group, each cell the generated image above the real image of
 * the same item, with the prompt underneath; pixels are enlarged by an integer factor so that small images are
 * visible.
 */
public final class EvalGrid {
    public static final String FILE = "grid.png";
    private static final int TARGET_CELL = 96;
    private static final int GAP = 6;
    private static final int TEXT_LINES = 3;
    private static final int LINE = 12;
    private static final int HEADER = 16;

    /** One cell: RGB bytes (H x W x 3) of the generated and the real image, and the prompt. */
    public record Cell(byte[] generated, byte[] real, String prompt) {}

    /** One band: its title and cells. */
    public record Band(String title, List<Cell> cells) {}

    private EvalGrid() {}

    public static BufferedImage render(List<Band> bands, int width, int height, int columns) {
        int scale = Math.max(1, TARGET_CELL / Math.max(width, height));
        int cellW = Math.max(width * scale, 72);
        int cellH = 2 * height * scale + 2 + TEXT_LINES * LINE;
        int cols = Math.max(1, Math.min(columns, bands.stream().mapToInt(b -> b.cells().size()).max().orElse(1)));
        int total = 0;
        for (Band b : bands) {
            int rows = Math.max(1, (b.cells().size() + cols - 1) / cols);
            total += HEADER + rows * (cellH + GAP);
        }
        BufferedImage sheet = new BufferedImage(GAP + cols * (cellW + GAP), total + GAP, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = sheet.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, sheet.getWidth(), sheet.getHeight());
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 10);
            Font bold = font.deriveFont(Font.BOLD, 12f);
            int y = 0;
            for (Band band : bands) {
                g.setColor(Color.BLACK);
                g.setFont(bold);
                g.drawString(band.title(), GAP, y + HEADER - 4);
                y += HEADER;
                g.setFont(font);
                FontMetrics fm = g.getFontMetrics();
                for (int i = 0; i < band.cells().size(); i++) {
                    Cell c = band.cells().get(i);
                    int x0 = GAP + (i % cols) * (cellW + GAP);
                    int y0 = y + (i / cols) * (cellH + GAP);
                    draw(sheet, c.generated(), width, height, scale, x0, y0);
                    draw(sheet, c.real(), width, height, scale, x0, y0 + height * scale + 2);
                    g.setColor(Color.BLACK);
                    List<String> lines = wrap(c.prompt(), fm, cellW);
                    for (int l = 0; l < lines.size(); l++) {
                        g.drawString(lines.get(l), x0, y0 + 2 * height * scale + 2 + (l + 1) * LINE - 2);
                    }
                }
                y += Math.max(1, (band.cells().size() + cols - 1) / cols) * (cellH + GAP);
            }
        } finally {
            g.dispose();
        }
        return sheet;
    }

    public static void write(Path file, List<Band> bands, int width, int height, int columns) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            ImageIO.write(render(bands, width, height, columns), "png", file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static void draw(BufferedImage sheet, byte[] rgb, int width, int height, int scale, int x0, int y0) {
        for (int y = 0; y < height * scale; y++) {
            for (int x = 0; x < width * scale; x++) {
                int p = ((y / scale) * width + x / scale) * 3;
                sheet.setRGB(x0 + x, y0 + y, (rgb[p] & 0xff) << 16 | (rgb[p + 1] & 0xff) << 8 | (rgb[p + 2] & 0xff));
            }
        }
    }

    /** Greedy word wrap into at most {@link #TEXT_LINES} lines; the last is cut with an ellipsis if needed. */
    static List<String> wrap(String text, FontMetrics fm, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            String next = line.length() == 0 ? word : line + " " + word;
            if (fm.stringWidth(next) <= width || line.length() == 0) {
                line.setLength(0);
                line.append(next);
            } else {
                lines.add(line.toString());
                line.setLength(0);
                line.append(word);
            }
        }
        lines.add(line.toString());
        if (lines.size() > TEXT_LINES) {
            List<String> cut = new ArrayList<>(lines.subList(0, TEXT_LINES));
            cut.set(TEXT_LINES - 1, cut.get(TEXT_LINES - 1) + "...");
            return cut;
        }
        return lines;
    }
}
