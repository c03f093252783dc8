package dev.mdx.train.eval;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.control.ConditionType;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import dev.mdx.pipeline.EditImages;
import dev.mdx.pipeline.GenerationRequest;
import dev.mdx.pipeline.GrayImage;
import dev.mdx.pipeline.ImageControl;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.pipeline.StepCallback;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.train.classifier.ImageClassifier;
import dev.mdx.train.data.ImageDataset;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The control adapter's measured effect (docs/CONTROL.md): for N held-out real images of the data set's test split,
 * the condition map is extracted from the image and the model generates from the image's caption (seed 1000 + i),
 * without and with the adapter, at 50 steps (the base model), 8 (the distilled student) and 1 (the UFOGen
 * student); the same extractor runs on each output and {@link ControlAgreement} compares it with the map. Where the
 * model ships a classifier (fashion), the share of outputs it puts in the image's class is reported too. Writes
 * OUT/report.json, OUT/table.md and OUT/grid.png (the first 6 images: real, condition, outputs).
 *
 * <p>A measurement program, not a test: {@code java -cp ... dev.mdx.train.eval.ControlMeasure MODEL DATA TYPE N OUT
 * [ADAPTER|-] [SCALE] [STEPS,...]} (steps default 50,8,1; the grid needs three).
 */
public final class ControlMeasure {
    private static final int GRID_ROWS = 6;

    private ControlMeasure() {}

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        ImageDataset data = ImageDataset.open(Path.of(args[1]));
        ConditionType type = ConditionType.parse(args[2]);
        int n = Integer.parseInt(args[3]);
        Path out = Path.of(args[4]);
        // "none": only the uncontrolled images (kept in OUT for a later run with an adapter)
        boolean baselineOnly = args.length > 5 && args[5].equals("none");
        Path adapter = args.length > 5 && !args[5].equals("-") && !baselineOnly ? Path.of(args[5]) : null;
        double scale = args.length > 6 ? Double.parseDouble(args[6]) : 1.0;
        int[] stepCounts = args.length > 7 ? java.util.Arrays.stream(args[7].split(",")).mapToInt(Integer::parseInt)
                .toArray() : new int[] {50, 8, 1};
        int[] test = data.indices("test");
        int[] picked = new int[n];
        for (int i = 0; i < n; i++) {
            picked[i] = test[(int) ((long) i * test.length / n)];
        }
        Files.createDirectories(out.resolve("images"));
        List<RgbImage> real = new ArrayList<>();
        List<GrayImage> maps = new ArrayList<>();
        for (int index : picked) {
            RgbImage image = new RgbImage(data.width(), data.height(), data.rgb(index));
            real.add(image);
            maps.add(type.extract(image));
        }
        ObjectNode report = JsonConfig.MAPPER.createObjectNode();
        report.put("model", model.toString());
        report.put("condition", type.cliName());
        report.put("images", n);
        report.put("scale", scale);
        ArrayNode rows = report.putArray("rows");
        boolean edges = type == ConditionType.CANNY;
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "| steps | %s without | with adapter |"
                + " ratio |%s class accuracy without | with |%n|---|---:|---:|---:|%s---:|---:|%n",
                edges ? "edge F1 (2 px)" : "mask IoU", edges ? " F1 1 px without / with | F1 0 px without / with |"
                : "", edges ? "---:|---:|" : ""));
        List<List<RgbImage>> gridOutputs = new ArrayList<>();
        try (TextToImagePipeline p = TextToImagePipeline.load(model); NDManager m = NDManager.newBaseManager()) {
            Path classifierDir = model.resolve("classifier");
            ImageClassifier classifier = Files.isDirectory(classifierDir) ? ImageClassifier.load(classifierDir, m)
                    : null;
            for (int steps : stepCounts) {
                double[] agreement = new double[2];
                double[] accuracy = new double[2];
                double[][] tight = new double[2][];
                for (int on = 0; on < (baselineOnly ? 1 : 2); on++) {
                    long start = System.nanoTime();
                    List<RgbImage> images = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        GenerationRequest.Builder b = p.newRequest().prompt(data.caption(picked[i])).steps(steps)
                                .seed(1000 + i);
                        if (on == 1) {
                            ImageControl c = ImageControl.map(maps.get(i), type, scale);
                            b.control(adapter == null ? c : c.withAdapter(adapter));
                        }
                        // an uncontrolled image of an earlier run into OUT is reused: it does not depend on the adapter
                        Path kept = out.resolve("images").resolve(steps + "-without-" + i + ".png");
                        images.add(on == 0 && Files.isRegularFile(kept) ? EditImages.readRgb(kept, "kept image")
                                : p.generate(b.build()).images().get(0));
                    }
                    double sum = 0;
                    double[] exact = new double[2];
                    for (int i = 0; i < n; i++) {
                        GrayImage got = type.extract(images.get(i));
                        sum += ControlAgreement.of(type, maps.get(i), got);
                        if (type == ConditionType.CANNY) {
                            exact[0] += ControlAgreement.edgeF1(maps.get(i), got, 0) / n;
                            exact[1] += ControlAgreement.edgeF1(maps.get(i), got, 1) / n;
                        }
                        images.get(i).writePng(out.resolve("images").resolve(steps + (on == 1 ? "-with-" : "-without-")
                                + i + ".png"), java.util.Map.of());
                    }
                    agreement[on] = sum / n;
                    tight[on] = exact;
                    if (classifier != null) {
                        int[] pred = classifier.predict((scope, from, to) -> LoraTransferMeasure.gray(scope, images,
                                from, to), n, 64, m);
                        int hits = 0;
                        for (int i = 0; i < n; i++) {
                            hits += classifier.config().classNames().get(pred[i]).equals(data.label(picked[i])) ? 1
                                    : 0;
                        }
                        accuracy[on] = (double) hits / n;
                    }
                    gridOutputs.add(images.subList(0, Math.min(GRID_ROWS, n)));
                    System.out.printf(Locale.ROOT, "steps %d, adapter %s: agreement %.3f, class accuracy %s (%.0f s)%n",
                            steps, on == 1 ? "on" : "off", agreement[on], classifier == null ? "-"
                                    : String.format(Locale.ROOT, "%.1f%%", 100 * accuracy[on]),
                            (System.nanoTime() - start) / 1e9);
                }
                if (baselineOnly) {
                    continue;
                }
                ObjectNode row = rows.addObject();
                row.put("steps", steps);
                row.put("agreement_without", agreement[0]);
                row.put("agreement_with", agreement[1]);
                if (type == ConditionType.CANNY) {
                    row.put("edge_f1_0px_without", tight[0][0]);
                    row.put("edge_f1_0px_with", tight[1][0]);
                    row.put("edge_f1_1px_without", tight[0][1]);
                    row.put("edge_f1_1px_with", tight[1][1]);
                }
                if (classifier != null) {
                    row.put("class_accuracy_without", accuracy[0]);
                    row.put("class_accuracy_with", accuracy[1]);
                }
                String extra = type != ConditionType.CANNY ? "" : String.format(Locale.ROOT,
                        " | %.3f / %.3f (%.2fx) | %.3f / %.3f (%.2fx)", tight[0][1], tight[1][1],
                        tight[1][1] / Math.max(1e-9, tight[0][1]), tight[0][0], tight[1][0],
                        tight[1][0] / Math.max(1e-9, tight[0][0]));
                table.append(String.format(Locale.ROOT, "| %d | %.3f | %.3f | %.2fx%s | %s | %s |%n", steps,
                        agreement[0], agreement[1], agreement[1] / Math.max(1e-9, agreement[0]), extra,
                        classifier == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * accuracy[0]),
                        classifier == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * accuracy[1])));
            }
        }
        AtomicFiles.writeBytes(out.resolve("report.json"), (JsonConfig.pretty(report) + "\n")
                .getBytes(StandardCharsets.UTF_8));
        AtomicFiles.writeBytes(out.resolve("table.md"), table.toString().getBytes(StandardCharsets.UTF_8));
        System.out.print(table);
        if (stepCounts.length == 3 && !baselineOnly) {
            writeGrid(out.resolve("grid.png"), real, maps, gridOutputs, picked, data, stepCounts);
        }
    }

    /** Rows: one held-out image each; columns: the real image, its map, then with / without at 50, 8, 1 steps. */
    private static void writeGrid(Path file, List<RgbImage> real, List<GrayImage> maps, List<List<RgbImage>> outputs,
            int[] picked, ImageDataset data, int[] steps) {
        List<String> columns = new ArrayList<>(List.of("real", "condition"));
        for (String kind : List.of(" with", " without")) {
            for (int s : steps) {
                columns.add(s + kind);
            }
        }
        List<ImageTable.Row> rows = new ArrayList<>();
        for (int r = 0; r < Math.min(GRID_ROWS, real.size()); r++) {
            List<BufferedImage> cells = new ArrayList<>();
            cells.add(ImageTable.buffered(real.get(r)));
            cells.add(ImageTable.buffered(rgb(maps.get(r))));
            // outputs are in order (50 off, 50 on, 8 off, 8 on, 1 off, 1 on)
            for (int on = 1; on >= 0; on--) {
                for (int s = 0; s < steps.length; s++) {
                    cells.add(ImageTable.buffered(outputs.get(2 * s + on).get(r)));
                }
            }
            rows.add(new ImageTable.Row(data.caption(picked[r]), cells));
        }
        ImageTable.write(file, columns, rows, 64);
    }

    /** A map as an RGB image, for a sheet. */
    static RgbImage rgb(GrayImage g) {
        byte[] rgb = new byte[g.values().length * 3];
        for (int i = 0; i < g.values().length; i++) {
            rgb[3 * i] = g.values()[i];
            rgb[3 * i + 1] = g.values()[i];
            rgb[3 * i + 2] = g.values()[i];
        }
        return new RgbImage(g.width(), g.height(), rgb);
    }
}
