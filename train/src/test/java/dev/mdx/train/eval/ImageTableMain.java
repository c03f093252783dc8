package dev.mdx.train.eval;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Image;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A labelled table of PNGs, for comparisons in the docs (the README's 1 / 8 / 50-step grid): one row per setting,
 * one column per prompt, every image enlarged without smoothing to {@code CELL} pixels.
 * {@code java -cp <test classpath> dev.mdx.train.eval.ImageTableMain OUT.png "col 1|col 2|..." "row label=a.png,b.png" ...}
 */
public final class ImageTableMain {
    private static final int CELL = 128;
    private static final int GAP = 6;
    private static final int LABEL_W = 150;
    private static final int HEADER = 30;

    private ImageTableMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: OUT.png \"col|col|...\" \"row label=a.png,b.png,...\" ...");
        }
        List<String> columns = Arrays.asList(args[1].split("\\|"));
        List<String> labels = new ArrayList<>();
        List<List<BufferedImage>> rows = new ArrayList<>();
        for (int r = 2; r < args.length; r++) {
            int eq = args[r].indexOf('=');
            labels.add(args[r].substring(0, eq));
            List<BufferedImage> images = new ArrayList<>();
            for (String f : args[r].substring(eq + 1).split(",")) {
                images.add(ImageIO.read(new File(f)));
            }
            if (images.size() != columns.size()) {
                throw new IllegalArgumentException(labels.get(labels.size() - 1) + ": " + images.size()
                        + " images for " + columns.size() + " columns");
            }
            rows.add(images);
        }
        BufferedImage sheet = new BufferedImage(LABEL_W + columns.size() * (CELL + GAP) + GAP,
                HEADER + rows.size() * (CELL + GAP) + GAP, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = sheet.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, sheet.getWidth(), sheet.getHeight());
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int c = 0; c < columns.size(); c++) {
            g.drawString(columns.get(c), LABEL_W + c * (CELL + GAP), HEADER - 10);
        }
        for (int r = 0; r < rows.size(); r++) {
            int y = HEADER + r * (CELL + GAP);
            g.drawString(labels.get(r), GAP, y + CELL / 2);
            for (int c = 0; c < columns.size(); c++) {
                Image img = rows.get(r).get(c);
                g.drawImage(img, LABEL_W + c * (CELL + GAP), y, CELL, CELL, null);
            }
        }
        g.dispose();
        Path out = Path.of(args[0]);
        Files.createDirectories(out.toAbsolutePath().getParent());
        ImageIO.write(sheet, "png", out.toFile());
    }
}
