package dev.mdx.train.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import dev.mdx.train.clip.Retrieval;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The result of one evaluation: the settings and one row per prompt group (held-in, held-out, and for the emoji
 * set the held-out kinds), written as {@code eval.json} and a Markdown table {@code eval.md}.
 */
public record EvalReport(EvalSettings settings, String sampler, int steps, double cfgScale, int width, int height,
        int labels, List<Row> rows,
        double seconds) {
    public static final String JSON = "eval.json";
    public static final String MARKDOWN = "eval.md";

    /**
     * One group of prompts.
     *
     * @param name held_in, held_out, held_out_emoji, held_out_pair
     * @param split the data set split the prompts and real images come from
     * @param images generated images (and as many real ones)
     * @param clip small-CLIP label retrieval of the generated images among all labels
     * @param realClip the same for the real images of the same items (the ceiling)
     * @param fid Frechet distance of generated and real images in the CLIP image tower's feature space (NaN for
     *     fewer than two images)
     * @param realFid the same distance between these real images and as many other real images of the split: the
     *     floor at this sample size (NaN for the holdout-kind rows, or when the split is too small)
     * @param classifierAccuracy the classifier's accuracy on the generated images (NaN without classifier)
     * @param realClassifierAccuracy its accuracy on the real images of the same items (NaN without classifier)
     * @param msPerImage mean wall time of one generate call (text encoder, sampling, decode)
     * @param unetMsPerImage the UNet's share of it
     * @param sharpness mean variance of the Laplacian of the generated images ({@link Sharpness}, values in [-1, 1])
     * @param realSharpness the same for the real images of the same items
     */
    public record Row(String name, String split, int images, Retrieval.Accuracy clip, Retrieval.Accuracy realClip,
            double fid, double realFid, double classifierAccuracy, double realClassifierAccuracy, double msPerImage,
            double unetMsPerImage, double sharpness, double realSharpness) {}

    public Row row(String name) {
        return rows.stream().filter(r -> r.name().equals(name)).findFirst().orElse(null);
    }

    public ObjectNode toJson() {
        ObjectNode o = JsonConfig.MAPPER.createObjectNode();
        o.put("model", path(settings.model()));
        o.put("dataset", path(settings.dataset()));
        o.put("clip", path(settings.clip()));
        if (settings.classifier() == null) {
            o.putNull("classifier");
        } else {
            o.put("classifier", path(settings.classifier()));
        }
        o.put("sampler", sampler);
        o.put("steps", steps);
        o.put("cfg_scale", cfgScale);
        o.put("seed", settings.seed());
        o.put("width", width);
        o.put("height", height);
        o.put("images_per_split", settings.images());
        o.put("labels", labels);
        o.put("label_text", settings.labelText().jsonName());
        o.put("seconds", seconds);
        ObjectNode splits = o.putObject("splits");
        for (Row r : rows) {
            ObjectNode s = splits.putObject(r.name());
            s.put("split", r.split());
            s.put("images", r.images());
            s.put("clip_top1", r.clip().top1());
            s.put("clip_top5", r.clip().top5());
            s.put("real_clip_top1", r.realClip().top1());
            s.put("real_clip_top5", r.realClip().top5());
            number(s, "fid", r.fid());
            number(s, "real_fid", r.realFid());
            number(s, "classifier_accuracy", r.classifierAccuracy());
            number(s, "real_classifier_accuracy", r.realClassifierAccuracy());
            s.put("ms_per_image", r.msPerImage());
            s.put("unet_ms_per_image", r.unetMsPerImage());
            number(s, "laplacian_variance", r.sharpness());
            number(s, "real_laplacian_variance", r.realSharpness());
        }
        return o;
    }

    /** A Markdown table: one row per group, the settings above it. */
    public String toMarkdown() {
        StringBuilder b = new StringBuilder();
        b.append("# mdx eval\n\n");
        b.append(String.format(Locale.ROOT, "Model `%s`, data set `%s`, CLIP `%s`%s. %s, %d steps, CFG scale %s, "
                + "seed %d, %dx%d, up to %d images per split; %d labels (label text: %s).%n%n",
                path(settings.model()), path(settings.dataset()), path(settings.clip()),
                settings.classifier() == null ? "" : ", classifier `" + path(settings.classifier()) + "`", sampler,
                steps, trim(cfgScale), settings.seed(), width, height, settings.images(),
                labels, settings.labelText().jsonName()));
        boolean classifier = rows.stream().anyMatch(r -> !Double.isNaN(r.classifierAccuracy()));
        b.append("| prompts | split | images | CLIP top-1 | CLIP top-5 | real top-1 | real top-5 | CLIP-FID ");
        b.append("| real FID |");
        b.append(classifier ? " classifier acc. | real acc. |" : "").append(" Laplacian var. | real | ms/image |\n");
        b.append("|---|---|---|---|---|---|---|---|---|").append(classifier ? "---|---|" : "").append("---|---|---|\n");
        for (Row r : rows) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %d | %.3f | %.3f | %.3f | %.3f | %s | %s |", r.name(),
                    r.split(), r.images(), r.clip().top1(), r.clip().top5(), r.realClip().top1(),
                    r.realClip().top5(), fixed(r.fid()), fixed(r.realFid())));
            if (classifier) {
                b.append(String.format(Locale.ROOT, " %.3f | %.3f |", r.classifierAccuracy(),
                        r.realClassifierAccuracy()));
            }
            b.append(String.format(Locale.ROOT, " %.4f | %.4f | %.0f |%n", r.sharpness(), r.realSharpness(),
                    r.msPerImage()));
        }
        b.append("\nCLIP top-k: is the prompt's label among the k labels whose text embeddings are closest to the "
                + "image (out of all labels); \"real\" scores the data set's own images of the same items. CLIP-FID: "
                + "Frechet distance of generated and real images in the small CLIP's image-feature space; real FID: "
                + "the same between the real images and as many other real images of the split, the floor at this "
                + "sample size. Laplacian var.: mean variance of the 4-neighbour Laplacian of the images (pixel values "
                + "in [-1, 1]), their high-frequency energy; \"real\" for the real images of the same items.\n");
        return b.toString();
    }

    public void write(Path dir) {
        AtomicFiles.writeBytes(dir.resolve(JSON), JsonConfig.pretty(toJson()).getBytes(StandardCharsets.UTF_8));
        AtomicFiles.writeBytes(dir.resolve(MARKDOWN), toMarkdown().getBytes(StandardCharsets.UTF_8));
    }

    private static String fixed(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
    }

    static void number(ObjectNode o, String key, double v) {
        if (Double.isNaN(v)) {
            o.putNull(key);
        } else {
            o.put(key, v);
        }
    }

    static String path(Path p) {
        return p.toAbsolutePath().normalize().toString();
    }

    static String trim(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
