package dev.mdx.train.eval;

import static dev.mdx.train.eval.EvalReport.number;
import static dev.mdx.train.eval.EvalReport.path;
import static dev.mdx.train.eval.EvalReport.trim;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The result of {@code mdx eval-edit}: per class pair, the shipped classifier's verdict on the real images, on their
 * image-to-image edits at each setting and strength, and on their top-half inpaintings; written as {@code edit.json}
 * and a Markdown report {@code edit.md}, with one grid of examples per pair ({@link #gridFile}).
 */
public record EditReport(EditEvalSettings settings, int width, int height, List<Pair> pairs, double seconds) {
    public static final String JSON = "edit.json";
    public static final String MARKDOWN = "edit.md";

    /**
     * The model a step setting ran and with what.
     *
     * @param setting as asked
     * @param model "base model" or the student's description
     * @param sampler the sampler's CLI name
     * @param steps the sampler's plan length (the run enters it at the strength's step)
     * @param cfgScale the guidance scale used
     */
    public record Setting(EditEvalSettings.StepSetting setting, String model, String sampler, int steps,
            double cfgScale) {
        public String label() {
            return steps + (steps == 1 ? " step, " : " steps, ") + model;
        }

        /** A label short enough for a grid row: "50 steps, base", "8 steps, distilled", "1 step, UFOGen". */
        public String shortLabel() {
            String kind = model.contains("UFOGen") ? "UFOGen" : model.contains("distilled") ? "distilled" : "base";
            return steps + (steps == 1 ? " step, " : " steps, ") + kind;
        }
    }

    /** The classifier's verdicts on a set of images: the fraction in the source and in the prompted class. */
    public record Verdict(int images, double source, double target) {
        /** The fraction of {@code predictions} equal to {@code sourceClass} and to {@code targetClass}. */
        public static Verdict of(int[] predictions, int sourceClass, int targetClass) {
            int s = 0;
            int t = 0;
            for (int p : predictions) {
                s += p == sourceClass ? 1 : 0;
                t += p == targetClass ? 1 : 0;
            }
            int n = predictions.length;
            return new Verdict(n, n == 0 ? Double.NaN : (double) s / n, n == 0 ? Double.NaN : (double) t / n);
        }
    }

    /**
     * One image-to-image cell.
     *
     * @param unetSteps UNet evaluations per image: the plan's steps from the strength's entry on
     * @param firstTimestep the timestep the encoded image is noised to (NaN when no step runs)
     * @param meanChange mean absolute difference to the real image, 0-255, over all pixels and channels
     * @param msPerImage mean wall time of one generate call
     */
    public record Img2ImgRow(Setting setting, double strength, int unetSteps, double firstTimestep, Verdict verdict,
            double meanChange, double msPerImage) {}

    /**
     * One inpainting cell: the top half repainted, the bottom half kept.
     *
     * @param prompted "target" (the other class's prompt) or "source" (the control: the image's own class)
     * @param keptMaxDiff the largest absolute difference to the real image in the kept half, 0-255 (0 with
     *     paste-back)
     * @param repaintedMeanChange mean absolute difference to the real image in the repainted half, 0-255
     */
    public record InpaintRow(Setting setting, String prompted, String prompt, Verdict verdict, int keptMaxDiff,
            double repaintedMeanChange, double msPerImage) {}

    /**
     * One class pair.
     *
     * @param items the data set indices of the real images (test split, source class)
     * @param real the classifier on the real images themselves
     * @param grid the file name of the pair's grid of examples, in the output folder
     */
    public record Pair(EditEvalSettings.ClassPair classes, String sourcePrompt, String targetPrompt, int[] items,
            Verdict real, List<Img2ImgRow> img2img, List<InpaintRow> inpaint, String grid) {
        /** The image-to-image rows of one setting, by strength. */
        public List<Img2ImgRow> rows(Setting s) {
            return img2img.stream().filter(r -> r.setting().equals(s))
                    .sorted(Comparator.comparingDouble(Img2ImgRow::strength)).toList();
        }

        public List<Setting> settings() {
            List<Setting> out = new ArrayList<>();
            for (Img2ImgRow r : img2img) {
                if (!out.contains(r.setting())) {
                    out.add(r.setting());
                }
            }
            return out;
        }
    }

    /** The grid of a pair's examples: {@code grid-SOURCE-TARGET.png}, the class names in lower case, dashed. */
    public static String gridFile(EditEvalSettings.ClassPair pair) {
        return "grid-" + slug(pair.source()) + "-" + slug(pair.target()) + ".png";
    }

    private static String slug(String name) {
        return name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
    }

    /**
     * Where the prompted class overtakes the source class as the strength grows: the first strength at which more
     * images are classified as the prompted class than as the source, or null when that never happens.
     */
    public static Double crossover(List<Img2ImgRow> byStrength) {
        for (Img2ImgRow r : byStrength) {
            if (r.verdict().target() > r.verdict().source()) {
                return r.strength();
            }
        }
        return null;
    }

    /** The crossover in words, e.g. "crosses over between 0.5 and 0.75". */
    public static String describeCrossover(List<Img2ImgRow> byStrength) {
        Double at = crossover(byStrength);
        if (byStrength.isEmpty()) {
            return "no strengths";
        }
        if (at == null) {
            return "does not cross over: the source class leads or ties up to strength "
                    + trim(byStrength.get(byStrength.size() - 1).strength());
        }
        int i = 0;
        while (byStrength.get(i).strength() != at) {
            i++;
        }
        if (i == 0) {
            return "the prompted class leads already at the lowest strength, " + trim(at);
        }
        return "crosses over between " + trim(byStrength.get(i - 1).strength()) + " and " + trim(at);
    }

    public ObjectNode toJson() {
        ObjectNode o = JsonConfig.MAPPER.createObjectNode();
        o.put("model", path(settings.model()));
        o.put("dataset", path(settings.dataset()));
        o.put("classifier", path(settings.classifier()));
        o.put("seed", settings.seed());
        o.put("images_per_cell", settings.images());
        o.put("width", width);
        o.put("height", height);
        ArrayNode strengths = o.putArray("strengths");
        settings.strengths().forEach(strengths::add);
        o.put("seconds", seconds);
        ArrayNode list = o.putArray("pairs");
        for (Pair p : pairs) {
            ObjectNode po = list.addObject();
            po.put("source_class", p.classes().source());
            po.put("target_class", p.classes().target());
            po.put("source_prompt", p.sourcePrompt());
            po.put("target_prompt", p.targetPrompt());
            ArrayNode items = po.putArray("items");
            for (int i : p.items()) {
                items.add(i);
            }
            po.put("grid", p.grid());
            verdict(po.putObject("real"), p.real());
            ArrayNode rows = po.putArray("img2img");
            for (Img2ImgRow r : p.img2img()) {
                ObjectNode ro = rows.addObject();
                setting(ro, r.setting());
                ro.put("strength", r.strength());
                ro.put("unet_steps", r.unetSteps());
                number(ro, "first_timestep", r.firstTimestep());
                verdict(ro, r.verdict());
                ro.put("mean_change", r.meanChange());
                ro.put("ms_per_image", r.msPerImage());
            }
            ObjectNode cross = po.putObject("crossover");
            for (Setting s : p.settings()) {
                Double at = crossover(p.rows(s));
                if (at == null) {
                    cross.putNull(s.setting().toString());
                } else {
                    cross.put(s.setting().toString(), at);
                }
            }
            ArrayNode inpaint = po.putArray("inpaint");
            for (InpaintRow r : p.inpaint()) {
                ObjectNode ro = inpaint.addObject();
                setting(ro, r.setting());
                ro.put("prompted", r.prompted());
                ro.put("prompt", r.prompt());
                verdict(ro, r.verdict());
                ro.put("kept_max_abs_diff", r.keptMaxDiff());
                ro.put("repainted_mean_change", r.repaintedMeanChange());
                ro.put("ms_per_image", r.msPerImage());
            }
        }
        return o;
    }

    /** One section per class pair: the image-to-image table, where each setting crosses over, the inpainting table. */
    public String toMarkdown() {
        StringBuilder b = new StringBuilder();
        b.append("# mdx eval-edit\n\n");
        b.append(String.format(Locale.ROOT, "Model `%s`, data set `%s` (test split), classifier `%s`; %d real images"
                + " per pair, image i with seed %d + i; %dx%d.%n", path(settings.model()), path(settings.dataset()),
                path(settings.classifier()), settings.images(), settings.seed(), width, height));
        for (Pair p : pairs) {
            b.append(String.format(Locale.ROOT, "%n## %s images, prompt \"%s\" (%s)%n%n", p.classes().source(),
                    p.targetPrompt(), p.classes().target()));
            b.append(String.format(Locale.ROOT, "The classifier on the %d real images: %s %.2f, %s %.2f.%n%n",
                    p.real().images(), p.classes().source(), p.real().source(), p.classes().target(),
                    p.real().target()));
            b.append("| model | strength | UNet steps | first t | as ").append(p.classes().source())
                    .append(" (source) | as ").append(p.classes().target())
                    .append(" (prompted) | mean change | ms/image |\n");
            b.append("|---|---|---|---|---|---|---|---|\n");
            for (Setting s : p.settings()) {
                for (Img2ImgRow r : p.rows(s)) {
                    b.append(String.format(Locale.ROOT, "| %s | %s | %d | %s | %.2f | %.2f | %.1f | %.0f |%n",
                            s.label(), trim(r.strength()), r.unetSteps(),
                            Double.isNaN(r.firstTimestep()) ? "-" : trim(r.firstTimestep()), r.verdict().source(),
                            r.verdict().target(), r.meanChange(), r.msPerImage()));
                }
            }
            b.append('\n');
            for (Setting s : p.settings()) {
                b.append("- ").append(s.label()).append(": ").append(describeCrossover(p.rows(s))).append('\n');
            }
            b.append("\nExamples (the first images of the sample): [").append(p.grid()).append("](").append(p.grid())
                    .append(")\n");
            if (!p.inpaint().isEmpty()) {
                b.append("\nInpainting: the top half repainted (strength 1, paste-back), the bottom half kept.\n\n");
                b.append("| model | prompt | as ").append(p.classes().source()).append(" | as ")
                        .append(p.classes().target()).append(" | kept half max abs diff | repainted half mean change |"
                                + " ms/image |\n");
                b.append("|---|---|---|---|---|---|---|\n");
                for (InpaintRow r : p.inpaint()) {
                    b.append(String.format(Locale.ROOT, "| %s | \"%s\" (%s) | %.2f | %.2f | %d | %.1f | %.0f |%n",
                            r.setting().label(), r.prompt(), r.prompted(), r.verdict().source(), r.verdict().target(),
                            r.keptMaxDiff(), r.repaintedMeanChange(), r.msPerImage()));
                }
            }
        }
        b.append("\nas X: the fraction of the images the classifier puts in class X. Mean change: mean absolute "
                + "difference to the real image in 0-255 levels. UNet steps: evaluations per image (the plan entered "
                + "at the strength's step); first t: the timestep the encoded image is noised to.\n");
        return b.toString();
    }

    public void write(Path dir) {
        AtomicFiles.writeBytes(dir.resolve(JSON), JsonConfig.pretty(toJson()).getBytes(StandardCharsets.UTF_8));
        AtomicFiles.writeBytes(dir.resolve(MARKDOWN), toMarkdown().getBytes(StandardCharsets.UTF_8));
    }

    private static void setting(ObjectNode o, Setting s) {
        o.put("setting", s.setting().toString());
        o.put("model", s.model());
        o.put("sampler", s.sampler());
        o.put("steps", s.steps());
        o.put("cfg_scale", s.cfgScale());
    }

    private static void verdict(ObjectNode o, Verdict v) {
        o.put("images", v.images());
        number(o, "source_fraction", v.source());
        number(o, "target_fraction", v.target());
    }
}
