package dev.mdx.train.eval;

import ai.djl.ndarray.NDManager;
import dev.mdx.MdxException;
import dev.mdx.pipeline.GenerationParameters;
import dev.mdx.pipeline.GenerationPlan;
import dev.mdx.pipeline.GenerationRequest;
import dev.mdx.pipeline.GenerationResult;
import dev.mdx.pipeline.GrayImage;
import dev.mdx.pipeline.ImageEdit;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.pipeline.StepCallback;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.sampling.SamplingPlan;
import dev.mdx.train.classifier.ClassifierConfig;
import dev.mdx.train.classifier.ImageClassifier;
import dev.mdx.train.data.DataOrder;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.ImageDataset;
import java.awt.image.BufferedImage;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code mdx eval-edit}: how image to image and inpainting trade the real image against the prompt, measured with a
 * classifier (issue 13, item 6). For each (source class, prompted class) pair it takes a fixed sample of the data
 * set's test images of the source class and, for each step setting (the base model, its students) and strength,
 * edits every image with the canonical caption of the prompted class (image i with seed + i, the same for every
 * cell, so cells differ only in setting and strength). The classifier reports the fraction of results in the source
 * and in the prompted class; as the strength grows the second should overtake the first. Optionally it also
 * repaints the top half of the same images (strength 1, paste-back) with the prompted class's prompt and, as a
 * control, the source class's: the kept half must come back bit-identical, and the class should follow the prompt.
 * Writes edit.json, edit.md and one grid of examples per pair ({@link EditReport#gridFile}) into the output folder.
 */
public final class EditEvaluation {
    /** Seed of the sample of real images: fixed, so every model and seed edits the same images. */
    static final long ITEM_ORDER_SEED = 0x65646974;
    static final String TARGET = "target";
    static final String SOURCE = "source";

    /** What scores the results: class names (the data set's labels) and the predicted class of each image. */
    public interface Classifier {
        List<String> classNames();

        int[] classify(List<RgbImage> images);
    }

    private final EditEvalSettings settings;
    private final Classifier classifier;
    private final PrintStream log;
    /** The grid rows of the pair being measured. */
    private final List<ImageTable.Row> grid = new ArrayList<>();

    private EditEvaluation(EditEvalSettings settings, Classifier classifier, PrintStream log) {
        this.settings = settings;
        this.classifier = classifier;
        this.log = log;
    }

    /** Checks the inputs, edits, scores with the classifier folder of the settings and writes the outputs. */
    public static EditReport run(EditEvalSettings settings, PrintStream log) {
        Evaluation.requireFolder(settings.classifier(), "classifier folder", ClassifierConfig.FILE);
        ImageDataset data = ImageDataset.open(settings.dataset());
        try (NDManager manager = NDManager.newBaseManager()) {
            ImageClassifier model = ImageClassifier.load(settings.classifier(), manager);
            Evaluation.checkClassifier(model.config(), settings.classifier(), data);
            return run(settings, data, shipped(model, data, settings.batch(), manager), log);
        }
    }

    /** As {@link #run(EditEvalSettings, PrintStream)} with another classifier (tests). */
    static EditReport run(EditEvalSettings settings, ImageDataset data, Classifier classifier, PrintStream log) {
        return new EditEvaluation(settings, classifier, log).run(data);
    }

    /** The classifier of {@code mdx train classifier}, reading images as the data set stores them. */
    static Classifier shipped(ImageClassifier model, ImageDataset data, int batch, NDManager manager) {
        return new Classifier() {
            @Override
            public List<String> classNames() {
                return model.config().classNames();
            }

            @Override
            public int[] classify(List<RgbImage> images) {
                float[][] chw = new float[images.size()][];
                for (int i = 0; i < chw.length; i++) {
                    RgbImage im = images.get(i);
                    chw[i] = Evaluation.toChw(im.rgb(), im.width() * im.height(), data.channels());
                }
                return model.predict((scope, from, to) -> Evaluation.stack(scope, chw, from, to, data), chw.length,
                        batch, manager);
            }
        };
    }

    /** A class pair resolved against the data set and the classifier. */
    private record Resolved(EditEvalSettings.ClassPair classes, int sourceClass, int targetClass, String sourcePrompt,
            String targetPrompt, int[] items) {}

    private EditReport run(ImageDataset data) {
        long start = System.nanoTime();
        LabelSet labels = LabelSet.of(data);
        List<Resolved> pairs = new ArrayList<>();
        for (EditEvalSettings.ClassPair p : settings.pairs()) {
            pairs.add(resolve(p, data, labels));
        }
        List<EditReport.Pair> reports = new ArrayList<>();
        TextToImagePipeline.Builder builder = TextToImagePipeline.builder(settings.model());
        if (settings.threads() != null) {
            builder.threads(settings.threads());
        }
        try (TextToImagePipeline pipeline = builder.build()) {
            for (Resolved p : pairs) {
                reports.add(measure(pipeline, data, p));
            }
        }
        EditReport report = new EditReport(settings, data.width(), data.height(), reports,
                (System.nanoTime() - start) / 1e9);
        report.write(settings.out());
        return report;
    }

    /** The pair's classes as the data set names them (case-insensitive match), its prompts and its real images. */
    private Resolved resolve(EditEvalSettings.ClassPair p, ImageDataset data, LabelSet labels) {
        String source = label(p.source(), labels, data);
        String target = label(p.target(), labels, data);
        int sourceClass = classIndex(source);
        int targetClass = classIndex(target);
        int[] pool = Arrays.stream(data.indices(DatasetItem.TEST)).filter(i -> data.label(i).equals(source))
                .toArray();
        if (pool.length == 0) {
            throw new MdxException(data.dir() + " has no test images of class '" + source + "'");
        }
        int[] items = DataOrder.sample(pool, settings.images(), ITEM_ORDER_SEED);
        if (items.length < settings.images()) {
            log.printf(Locale.ROOT, "note: %s has only %d test images of '%s'; using all of them%n", data.dir(),
                    items.length, source);
        }
        return new Resolved(new EditEvalSettings.ClassPair(source, target), sourceClass, targetClass,
                labels.captions(source).get(0), labels.captions(target).get(0), items);
    }

    private static String label(String name, LabelSet labels, ImageDataset data) {
        for (String l : labels.labels()) {
            if (l.equalsIgnoreCase(name)) {
                return l;
            }
        }
        throw new MdxException("'" + name + "' is not a class of " + data.dir() + " (its classes: "
                + String.join(", ", labels.labels()) + ")");
    }

    private int classIndex(String label) {
        int i = classifier.classNames().indexOf(label);
        if (i < 0) {
            throw new MdxException("the classifier does not know the class '" + label + "' (its classes: "
                    + String.join(", ", classifier.classNames()) + ")");
        }
        return i;
    }

    private EditReport.Pair measure(TextToImagePipeline pipeline, ImageDataset data, Resolved p) {
        List<RgbImage> sources = new ArrayList<>();
        for (int i : p.items()) {
            sources.add(new RgbImage(data.width(), data.height(), data.rgb(i)));
        }
        EditReport.Verdict real = verdict(sources, p);
        grid.clear();
        log.printf(Locale.ROOT, "%s images (%d), prompt \"%s\": the classifier puts %.2f of the real images in %s, "
                + "%.2f in %s%n", p.classes().source(), sources.size(), p.targetPrompt(), real.source(),
                p.classes().source(), real.target(), p.classes().target());
        grid.add(ImageTable.Row.heading(p.classes().source() + " test images, img2img with \"" + p.targetPrompt()
                + "\" (" + p.classes().target() + ")"));
        grid.add(new ImageTable.Row(String.format(Locale.ROOT, "real %s\n%s %.2f / %s %.2f", p.classes().source(),
                abbreviate(p.classes().source()), real.source(), abbreviate(p.classes().target()), real.target()),
                examples(sources)));
        List<EditReport.Img2ImgRow> img2img = new ArrayList<>();
        List<EditReport.InpaintRow> inpaint = new ArrayList<>();
        for (EditEvalSettings.StepSetting s : settings.stepSettings()) {
            for (double strength : settings.strengths()) {
                img2img.add(img2img(pipeline, p, s, strength, sources));
            }
        }
        if (settings.inpaint()) {
            List<RgbImage> masked = new ArrayList<>();
            for (RgbImage source : sources) {
                masked.add(greyTop(source));
            }
            grid.add(ImageTable.Row.heading(p.classes().source() + " test images, top half inpainted (strength 1,"
                    + " paste-back)"));
            grid.add(new ImageTable.Row("input: the top half\nis repainted", examples(masked)));
            for (EditEvalSettings.StepSetting s : settings.stepSettings()) {
                inpaint.add(inpaint(pipeline, p, s, TARGET, sources));
                inpaint.add(inpaint(pipeline, p, s, SOURCE, sources));
            }
        }
        String gridFile = EditReport.gridFile(p.classes());
        List<String> columns = new ArrayList<>();
        for (int i = 0; i < Math.min(settings.gridColumns(), sources.size()); i++) {
            columns.add("seed " + (settings.seed() + i));
        }
        ImageTable.write(settings.out().resolve(gridFile), columns, grid,
                Math.max(64, 2 * Math.max(sources.get(0).width(), sources.get(0).height())));
        return new EditReport.Pair(p.classes(), p.sourcePrompt(), p.targetPrompt(), p.items(), real, img2img,
                inpaint, gridFile);
    }

    /** The images of one cell, and the plan and time of its runs. */
    private record Cell(List<RgbImage> images, GenerationPlan plan, double msPerImage) {}

    private Cell generate(TextToImagePipeline pipeline, EditEvalSettings.StepSetting s, String prompt,
            List<RgbImage> sources, Function<RgbImage, ImageEdit> edit, String what) {
        List<RgbImage> out = new ArrayList<>();
        GenerationPlan first = null;
        double totalMs = 0;
        for (int i = 0; i < sources.size(); i++) {
            RgbImage source = sources.get(i);
            GenerationRequest request = GenerationRequest.builder().prompt(prompt).seed(settings.seed() + i)
                    .size(source.width(), source.height()).steps(s.steps()).useStudent(s.useStudent())
                    .edit(edit.apply(source)).build();
            GenerationPlan plan = pipeline.plan(request);
            if (first == null) {
                first = plan;
                plan.warnings().forEach(w -> log.println("warning (" + what + "): " + w));
            }
            long t0 = System.nanoTime();
            GenerationResult result = pipeline.generate(plan, StepCallback.NONE, null);
            totalMs += (System.nanoTime() - t0) / 1e6;
            out.add(result.images().get(0));
        }
        return new Cell(out, first, totalMs / sources.size());
    }

    private EditReport.Img2ImgRow img2img(TextToImagePipeline pipeline, Resolved p, EditEvalSettings.StepSetting s,
            double strength, List<RgbImage> sources) {
        String what = s + " steps, strength " + EvalReport.trim(strength);
        Cell cell = generate(pipeline, s, p.targetPrompt(), sources, source -> ImageEdit.img2img(source, strength),
                what);
        EditReport.Setting setting = describe(cell.plan(), s);
        SamplingPlan plan = cell.plan().samplingPlan();
        int first = cell.plan().firstStep();
        double firstTimestep = first < plan.size() ? plan.timestep(first) : Double.NaN;
        EditReport.Verdict v = verdict(cell.images(), p);
        double change = meanChange(sources, cell.images(), 0, sources.get(0).height());
        log.printf(Locale.ROOT, "%s, strength %s (%d UNet steps): %s %.2f, %s %.2f, mean change %.1f, %.0f ms/image%n",
                setting.label(), EvalReport.trim(strength), plan.size() - first, p.classes().source(), v.source(),
                p.classes().target(), v.target(), change, cell.msPerImage());
        grid.add(new ImageTable.Row(String.format(Locale.ROOT, "%s\nstrength %s\n%s %.2f / %s %.2f",
                setting.shortLabel(), EvalReport.trim(strength), abbreviate(p.classes().source()), v.source(),
                abbreviate(p.classes().target()), v.target()), examples(cell.images())));
        return new EditReport.Img2ImgRow(setting, strength, plan.size() - first, firstTimestep, v, change,
                cell.msPerImage());
    }

    private EditReport.InpaintRow inpaint(TextToImagePipeline pipeline, Resolved p, EditEvalSettings.StepSetting s,
            String prompted, List<RgbImage> sources) {
        String prompt = prompted.equals(TARGET) ? p.targetPrompt() : p.sourcePrompt();
        RgbImage any = sources.get(0);
        GrayImage mask = topHalfMask(any.width(), any.height());
        int half = any.height() / 2;
        Cell cell = generate(pipeline, s, prompt, sources, source -> new ImageEdit(source, mask, null,
                ImageEdit.DEFAULT_MASK_BLUR, true, null), s + " steps, inpainting");
        EditReport.Setting setting = describe(cell.plan(), s);
        EditReport.Verdict v = verdict(cell.images(), p);
        int kept = maxDiff(sources, cell.images(), half, any.height());
        double change = meanChange(sources, cell.images(), 0, half);
        log.printf(Locale.ROOT, "%s, inpainting with \"%s\": %s %.2f, %s %.2f; kept half max diff %d, repainted half"
                + " mean change %.1f, %.0f ms/image%n", setting.label(), prompt, p.classes().source(), v.source(),
                p.classes().target(), v.target(), kept, change, cell.msPerImage());
        String promptedClass = prompted.equals(TARGET) ? p.classes().target() : p.classes().source();
        grid.add(new ImageTable.Row(String.format(Locale.ROOT, "%s\ninpaint, prompt: %s\n%s %.2f / %s %.2f",
                setting.shortLabel(), abbreviate(promptedClass), abbreviate(p.classes().source()), v.source(),
                abbreviate(p.classes().target()), v.target()), examples(cell.images())));
        return new EditReport.InpaintRow(setting, prompted, prompt, v, kept, change, cell.msPerImage());
    }

    private static EditReport.Setting describe(GenerationPlan plan, EditEvalSettings.StepSetting s) {
        GenerationParameters used = plan.parameters();
        String model = plan.student().map(st -> st.describe(used.steps())).orElse("base model");
        if (model.startsWith("the ")) {
            model = model.substring(4);
        }
        return new EditReport.Setting(s, model, used.sampler().cliName(), used.steps(), used.cfgScale());
    }

    private EditReport.Verdict verdict(List<RgbImage> images, Resolved p) {
        return EditReport.Verdict.of(classifier.classify(images), p.sourceClass(), p.targetClass());
    }

    private List<BufferedImage> examples(List<RgbImage> images) {
        return images.stream().limit(settings.gridColumns()).map(ImageTable::buffered).collect(Collectors.toList());
    }

    /** White (repaint) on rows 0 .. h/2 - 1, black (keep) below. */
    static GrayImage topHalfMask(int w, int h) {
        byte[] v = new byte[w * h];
        Arrays.fill(v, 0, w * (h / 2), (byte) 255);
        return new GrayImage(w, h, v);
    }

    /** The image with its top half (the part inpainting repaints) shown mid grey, for the grid. */
    private static RgbImage greyTop(RgbImage image) {
        byte[] rgb = image.rgb().clone();
        Arrays.fill(rgb, 0, 3 * image.width() * (image.height() / 2), (byte) 128);
        return new RgbImage(image.width(), image.height(), rgb);
    }

    /** The mean absolute difference of every pair of images over rows {@code y0 .. y1 - 1}, all channels, 0-255. */
    static double meanChange(List<RgbImage> a, List<RgbImage> b, int y0, int y1) {
        long[] d = differences(a, b, y0, y1);
        return d[1] == 0 ? 0 : (double) d[0] / d[1];
    }

    /** The largest absolute difference of any pair of images over rows {@code y0 .. y1 - 1}, 0-255. */
    static int maxDiff(List<RgbImage> a, List<RgbImage> b, int y0, int y1) {
        return (int) differences(a, b, y0, y1)[2];
    }

    /** {sum, count, max} of the absolute byte differences of image pairs k over rows {@code y0 .. y1 - 1}. */
    private static long[] differences(List<RgbImage> a, List<RgbImage> b, int y0, int y1) {
        long[] out = new long[3];
        for (int k = 0; k < a.size(); k++) {
            byte[] x = a.get(k).rgb();
            byte[] y = b.get(k).rgb();
            int row = 3 * a.get(k).width();
            for (int i = y0 * row; i < y1 * row; i++) {
                int d = Math.abs((x[i] & 0xff) - (y[i] & 0xff));
                out[0] += d;
                out[1]++;
                out[2] = Math.max(out[2], d);
            }
        }
        return out;
    }

    /** A class name short enough for a grid label: "Ankle boot" stays, "T-shirt/top" becomes "T-shirt". */
    static String abbreviate(String label) {
        int slash = label.indexOf('/');
        return slash > 0 ? label.substring(0, slash) : label;
    }
}
