package dev.mdx.train.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.lora.LoraSpec;
import dev.mdx.pipeline.GenerationRequest;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.pipeline.StepCallback;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.train.SampleGrid;
import dev.mdx.train.classifier.ImageClassifier;
import dev.mdx.train.clip.ClipScorer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * How a LoRA trained on a base model carries over to its students (docs/TRAINING.md, "Shipped LoRAs"): for the base
 * at 50 steps, the 8-step and the one-step student, each without the LoRA and with it at 0.5 and 1.0, generates
 * images and reports
 * <ul>
 * <li>{@code concept MODEL LORA N PROMPT CLASS [PROMPT CLASS ...]}: the share the model's classifier puts in CLASS for
 *     PROMPT (N images, seeds 1000...); a second pair checks that other prompts are still followed;
 * <li>{@code style MODEL LORA MANIFEST LABELS SEEDS STYLE GRID}: for the first LABELS held-out emoji of the data set's
 *     manifest, SEEDS images each, the share the model's small CLIP calls STYLE among the set's styles (zero-shot,
 *     "LABEL, S style"), and its top-1 label retrieval among those labels; writes a grid of the first 8 labels.
 * </ul>
 * A measurement program, not a test: {@code java -cp ... dev.mdx.train.eval.LoraTransferMeasure style ...}
 * ({@code -Dmeasure.steps} and {@code -Dmeasure.scales} change the rows).
 */
public final class LoraTransferMeasure {
    /** The step counts and LoRA scales measured; {@code -Dmeasure.steps=1 -Dmeasure.scales=0,1,2} picks others. */
    private static final int[] STEPS = java.util.Arrays.stream(System.getProperty("measure.steps", "50,8,1")
            .split(",")).mapToInt(Integer::parseInt).toArray();
    private static final double[] SCALES = java.util.Arrays.stream(System.getProperty("measure.scales", "0,0.5,1")
            .split(",")).mapToDouble(Double::parseDouble).toArray();
    private static final List<String> EMOJI_STYLES = List.of("noto", "twemoji", "fluent", "openmoji");

    private LoraTransferMeasure() {}

    public static void main(String[] args) throws IOException {
        Path model = Path.of(args[1]);
        Path lora = Path.of(args[2]);
        try (TextToImagePipeline p = TextToImagePipeline.load(model); NDManager m = NDManager.newBaseManager()) {
            if (args[0].equals("concept")) {
                ImageClassifier classifier = ImageClassifier.load(model.resolve("classifier"), m);
                int n = Integer.parseInt(args[3]);
                for (int a = 4; a + 1 < args.length; a += 2) {
                    String prompt = args[a];
                    String className = args[a + 1];
                    int target = classifier.config().classNames().indexOf(className);
                    for (int steps : STEPS) {
                        for (double scale : SCALES) {
                            List<RgbImage> images = generate(p, List.of(prompt), n, steps, lora, scale);
                            int[] pred = classifier.predict((scope, from, to) -> gray(scope, images, from, to), n, 64,
                                    m);
                            long hits = java.util.Arrays.stream(pred).filter(x -> x == target).count();
                            System.out.printf(Locale.ROOT, "\"%s\" steps %d, LoRA %.1f: %s %d/%d (%.0f%%)%n", prompt,
                                    steps, scale, className, hits, n, 100.0 * hits / n);
                        }
                    }
                }
                return;
            }
            List<String> labels = heldOutLabels(Path.of(args[3]), Integer.parseInt(args[4]), args[6]);
            int seeds = Integer.parseInt(args[5]);
            int style = EMOJI_STYLES.indexOf(args[6]);
            ClipScorer clip = ClipScorer.load(model.resolve("clip"), m, 64);
            List<String> styleCaptions = new ArrayList<>();
            labels.forEach(l -> EMOJI_STYLES.forEach(s -> styleCaptions.add(l + ", " + s + " style")));
            float[][] styleText = normalized(clip.textEmbeddings(styleCaptions));
            float[][] labelText = normalized(clip.textEmbeddings(labels));
            List<byte[]> grid = new ArrayList<>();
            int size = 0;
            for (int steps : STEPS) {
                for (double scale : SCALES) {
                    List<RgbImage> images = generate(p, labels, seeds, steps, lora, scale);
                    for (int l = 0; l < Math.min(8, labels.size()); l++) {
                        grid.add(images.get(l * seeds).rgb());
                    }
                    size = images.get(0).width();
                    float[][] emb = normalized(clip.imageEmbeddings((scope, from, to) -> rgb(scope, images, from, to),
                            images.size()));
                    int styled = 0;
                    int retrieved = 0;
                    int[] byStyle = new int[EMOJI_STYLES.size()];
                    for (int i = 0; i < emb.length; i++) {
                        int label = i / seeds;
                        int called = argMax(emb[i], styleText, label * EMOJI_STYLES.size(), EMOJI_STYLES.size());
                        byStyle[called]++;
                        styled += called == style ? 1 : 0;
                        retrieved += argMax(emb[i], labelText, 0, labels.size()) == label ? 1 : 0;
                    }
                    System.out.printf(Locale.ROOT, "steps %d, LoRA %.1f: %s style %d/%d (%.0f%%), label top-1 %.0f%%"
                            + " of %d%n", steps, scale, args[6], styled, emb.length, 100.0 * styled / emb.length,
                            100.0 * retrieved / emb.length, labels.size());
                    System.out.println("  styles called: " + EMOJI_STYLES + " " + java.util.Arrays.toString(byStyle));
                }
            }
            SampleGrid.write(Path.of(args[7]), grid, size, size, Math.min(8, labels.size()), 2, Map.of("Description",
                    "rows: base 50 steps, 8-step, 1-step student, each without the LoRA, at 0.5, at 1.0; columns: "
                            + labels.subList(0, Math.min(8, labels.size()))));
        }
    }

    /** {@code count} images (seeds 1000...) per prompt, prompt after prompt. */
    private static List<RgbImage> generate(TextToImagePipeline p, List<String> prompts, int count, int steps,
            Path lora, double scale) {
        List<RgbImage> images = new ArrayList<>();
        for (String prompt : prompts) {
            GenerationRequest.Builder b = p.newRequest().prompt(prompt).steps(steps).seed(1000).batchCount(count);
            if (scale > 0) {
                b.lora(new LoraSpec(lora, scale));
            }
            p.generate(p.plan(b.build()), StepCallback.NONE, (k, image, used) -> images.add(image));
        }
        return images;
    }

    /** The first {@code count} labels of emoji held out of training, as the manifest lists them in {@code style}. */
    private static List<String> heldOutLabels(Path manifest, int count, String style) throws IOException {
        Set<String> labels = new LinkedHashSet<>();
        for (String line : Files.readAllLines(manifest)) {
            JsonNode n = JsonConfig.MAPPER.readTree(line);
            if ("emoji".equals(n.path("holdout").asText()) && style.equals(n.path("style").asText())) {
                labels.add(n.get("label").asText());
            }
        }
        return new ArrayList<>(labels).subList(0, count);
    }

    /** (n, 3, H, W) in [-1, 1]. */
    static NDArray rgb(NDManager scope, List<RgbImage> images, int from, int to) {
        return pixels(scope, images, from, to, false);
    }

    /** (n, 1, H, W) in [-1, 1], the mean of the channels. */
    static NDArray gray(NDManager scope, List<RgbImage> images, int from, int to) {
        return pixels(scope, images, from, to, true);
    }

    private static NDArray pixels(NDManager scope, List<RgbImage> images, int from, int to, boolean gray) {
        int w = images.get(0).width();
        int h = images.get(0).height();
        int channels = gray ? 1 : 3;
        float[] flat = new float[(to - from) * channels * w * h];
        for (int i = from; i < to; i++) {
            byte[] rgb = images.get(i).rgb();
            for (int q = 0; q < w * h; q++) {
                for (int c = 0; c < 3; c++) {
                    float v = (rgb[3 * q + c] & 0xff) / 127.5f - 1f;
                    int at = gray ? (i - from) * w * h + q : ((i - from) * 3 + c) * w * h + q;
                    flat[at] += gray ? v / 3 : v;
                }
            }
        }
        return scope.create(flat, new Shape(to - from, channels, h, w));
    }

    private static int argMax(float[] image, float[][] texts, int from, int count) {
        int best = from;
        for (int j = from + 1; j < from + count; j++) {
            if (dot(image, texts[j]) > dot(image, texts[best])) {
                best = j;
            }
        }
        return best - from;
    }

    private static float[][] normalized(float[][] rows) {
        for (float[] r : rows) {
            double s = 0;
            for (float v : r) {
                s += v * v;
            }
            float inv = (float) (1 / Math.sqrt(s));
            for (int i = 0; i < r.length; i++) {
                r[i] *= inv;
            }
        }
        return rows;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
