package dev.mdx.train.eval;

import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A labelled table of PNGs, for comparisons in the docs (the README's 1 / 8 / 50-step grid): one row per setting,
 * one column per prompt, every image enlarged without smoothing to {@code CELL} pixels ({@link ImageTable}).
 * {@code java -cp <test classpath> dev.mdx.train.eval.ImageTableMain OUT.png "col 1|col 2|..." "row label=a.png,b.png" ...}
 */
public final class ImageTableMain {
    private static final int CELL = 128;

    private ImageTableMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: OUT.png \"col|col|...\" \"row label=a.png,b.png,...\" ...");
        }
        List<String> columns = Arrays.asList(args[1].split("\\|"));
        List<ImageTable.Row> rows = new ArrayList<>();
        for (int r = 2; r < args.length; r++) {
            int eq = args[r].indexOf('=');
            String label = args[r].substring(0, eq);
            List<BufferedImage> images = new ArrayList<>();
            for (String f : args[r].substring(eq + 1).split(",")) {
                images.add(ImageIO.read(new File(f)));
            }
            if (images.size() != columns.size()) {
                throw new IllegalArgumentException(label + ": " + images.size() + " images for " + columns.size()
                        + " columns");
            }
            rows.add(new ImageTable.Row(label, images));
        }
        ImageTable.write(Path.of(args[0]), columns, rows, CELL);
    }
}
