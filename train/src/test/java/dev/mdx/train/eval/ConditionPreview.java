package dev.mdx.train.eval;

import dev.mdx.control.ConditionType;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.train.data.ImageDataset;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A sheet of what the extractors make of a data set's held-out images: a row of real images, then one row per
 * condition type. {@code java -cp ... dev.mdx.train.eval.ConditionPreview DATA COUNT OUT.png}.
 */
public final class ConditionPreview {
    private ConditionPreview() {}

    public static void main(String[] args) {
        ImageDataset data = ImageDataset.open(Path.of(args[0]));
        int count = Integer.parseInt(args[1]);
        int[] test = data.indices("test");
        List<BufferedImage> real = new ArrayList<>();
        List<List<BufferedImage>> maps = new ArrayList<>();
        for (ConditionType t : ConditionType.values()) {
            maps.add(new ArrayList<>());
        }
        for (int i = 0; i < count; i++) {
            RgbImage image = new RgbImage(data.width(), data.height(), data.rgb(test[i * test.length / count]));
            real.add(ImageTable.buffered(image));
            for (ConditionType t : ConditionType.values()) {
                maps.get(t.ordinal()).add(ImageTable.buffered(ControlMeasure.rgb(t.extract(image))));
            }
        }
        List<ImageTable.Row> rows = new ArrayList<>();
        rows.add(new ImageTable.Row("real", real));
        for (ConditionType t : ConditionType.values()) {
            rows.add(new ImageTable.Row(t.cliName(), maps.get(t.ordinal())));
        }
        ImageTable.write(Path.of(args[2]), List.of(), rows, 64);
    }
}
