package dev.mdx.train.eval;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.MdxException;
import dev.mdx.pipeline.GenerationParameters;
import dev.mdx.pipeline.GenerationPlan;
import dev.mdx.pipeline.GenerationRequest;
import dev.mdx.pipeline.GenerationResult;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.train.classifier.Accuracy;
import dev.mdx.train.classifier.ClassifierConfig;
import dev.mdx.train.classifier.ImageClassifier;
import dev.mdx.train.clip.ClipScorer;
import dev.mdx.train.clip.ClipVisionConfig;
import dev.mdx.train.clip.FrechetDistance;
import dev.mdx.train.clip.Retrieval;
import dev.mdx.train.data.DataOrder;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.ImageDataset;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code mdx eval}: generates images for held-in prompts (train-split captions) and held-out prompts (test-split
 * captions; the emoji set holds out whole emoji and single (emoji, style) pairs) and scores them per group:
 * small-CLIP top-1/top-5 label retrieval among all labels of the data set, the Frechet distance to the real images of
 * the same items in the CLIP image tower's feature space, optionally a classifier's accuracy on generated and on
 * real images, the high-frequency energy of generated and real images ({@link Sharpness}), and the wall time per
 * image. Writes eval.json, eval.md and grid.png into the output folder.
 */
public final class Evaluation {
    /** Seed of the prompt sample of each split: fixed, so every model and seed is scored on the same items. */
    static final long PROMPT_ORDER_SEED = 0x6576616c;
    static final String HELD_IN = "held_in";
    static final String HELD_OUT = "held_out";
    private static final int GRID_COLUMNS = 8;

    private final EvalSettings settings;
    private final PrintStream log;

    private Evaluation(EvalSettings settings, PrintStream log) {
        this.settings = settings;
        this.log = log;
    }

    /** Checks the inputs, generates, scores and writes the outputs. */
    public static EvalReport run(EvalSettings settings, PrintStream log) {
        return new Evaluation(settings, log).run();
    }

    /** The generated images of one prompt group and what they are scored against. */
    private record Group(String name, String split, int[] items, float[][] generated, List<byte[]> rgb,
            double[] wallMs, double[] unetMs) {}

    private EvalReport run() {
        long start = System.nanoTime();
        requireFolder(settings.clip(), "CLIP folder", "config.json");
        if (settings.classifier() != null) {
            requireFolder(settings.classifier(), "classifier folder", ClassifierConfig.FILE);
        }
        ImageDataset data = ImageDataset.open(settings.dataset());
        LabelSet labels = LabelSet.of(data);
        try (NDManager manager = NDManager.newBaseManager()) {
            ClipScorer scorer = ClipScorer.load(settings.clip(), manager, settings.batch());
            checkClip(scorer.model().config().vision(), data);
            ImageClassifier classifier = settings.classifier() == null ? null
                    : ImageClassifier.load(settings.classifier(), manager);
            if (classifier != null) {
                checkClassifier(classifier.config(), settings.classifier(), data);
            }
            List<Group> groups;
            GenerationRequest base;
            GenerationParameters used;
            TextToImagePipeline.Builder builder = TextToImagePipeline.builder(settings.model());
            if (settings.threads() != null) {
                builder.threads(settings.threads());
            }
            try (TextToImagePipeline pipeline = builder.build()) {
                base = baseRequest(data);
                GenerationPlan plan = pipeline.plan(base);
                used = plan.parameters();
                plan.notes().forEach(n -> log.println("note: " + n));
                log.printf(Locale.ROOT, "%s, %d steps, CFG scale %s, %dx%d; %d labels%n", used.sampler().cliName(),
                        used.steps(), used.cfgScale(), used.width(), used.height(), labels.size());
                groups = new ArrayList<>();
                for (String[] g : new String[][] {{HELD_IN, DatasetItem.TRAIN}, {HELD_OUT, DatasetItem.TEST}}) {
                    int[] items = DataOrder.sample(data.indices(g[1]), settings.images(), PROMPT_ORDER_SEED);
                    if (items.length == 0) {
                        log.println(g[0] + ": split '" + g[1] + "' is empty; skipped");
                        continue;
                    }
                    groups.add(generate(pipeline, base, data, g[0], g[1], items));
                }
            }
            if (groups.isEmpty()) {
                throw new MdxException(settings.dataset() + ": neither the train nor the test split has items");
            }
            log.println("scoring...");
            float[][] labelEmbeds = labels.embed(scorer, settings.labelText());
            List<EvalReport.Row> rows = new ArrayList<>();
            for (Group g : groups) {
                rows.addAll(score(g, data, labels, labelEmbeds, scorer, classifier, manager));
            }
            EvalReport report = new EvalReport(settings, used.sampler().cliName(), used.steps(), used.cfgScale(),
                    data.width(), data.height(), labels.size(), rows,
                    (System.nanoTime() - start) / 1e9);
            report.write(settings.out());
            EvalGrid.write(settings.out().resolve(EvalGrid.FILE), bands(groups, data), data.width(), data.height(),
                    GRID_COLUMNS);
            return report;
        }
    }

    private GenerationRequest baseRequest(ImageDataset data) {
        return GenerationRequest.builder().prompt("").seed(settings.seed()).size(data.width(), data.height())
                .batchCount(1).steps(settings.steps()).cfgScale(settings.cfgScale()).sampler(settings.sampler())
                .useStudent(settings.useStudent()).precision(settings.precision()).build();
    }

    private Group generate(TextToImagePipeline pipeline, GenerationRequest base, ImageDataset data, String name,
            String split, int[] items) {
        float[][] generated = new float[items.length][];
        List<byte[]> rgb = new ArrayList<>();
        double[] wall = new double[items.length];
        double[] unet = new double[items.length];
        int every = Math.max(1, items.length / 10);
        for (int i = 0; i < items.length; i++) {
            GenerationRequest request = base.toBuilder().prompt(data.caption(items[i])).seed(settings.seed() + i)
                    .build();
            long t0 = System.nanoTime();
            GenerationResult result = pipeline.generate(request);
            wall[i] = (System.nanoTime() - t0) / 1e6;
            unet[i] = result.timings().unetTotalMs();
            RgbImage image = result.images().get(0);
            rgb.add(image.rgb());
            generated[i] = toChw(image.rgb(), image.width() * image.height(), data.channels());
            if ((i + 1) % every == 0 || i + 1 == items.length) {
                log.printf(Locale.ROOT, "%s: %d/%d images, %.0f ms/image%n", name, i + 1, items.length,
                        Arrays.stream(wall, 0, i + 1).average().orElse(0));
            }
        }
        return new Group(name, split, items, generated, rgb, wall, unet);
    }

    /** The group's row, and for a held-out group whose items carry holdout kinds, one row per kind. */
    private List<EvalReport.Row> score(Group g, ImageDataset data, LabelSet labels, float[][] labelEmbeds,
            ClipScorer scorer, ImageClassifier classifier, NDManager manager) {
        int n = g.items().length;
        ClipScorer.Images generated = (scope, from, to) -> stack(scope, g.generated(), from, to, data);
        ClipScorer.Images real = (scope, from, to) -> data.batch(scope, Arrays.copyOfRange(g.items(), from, to));
        float[][] genEmbeds = scorer.imageEmbeddings(generated, n);
        float[][] realEmbeds = scorer.imageEmbeddings(real, n);
        float[][] genFeatures = scorer.imageFeatures(generated, n);
        float[][] realFeatures = scorer.imageFeatures(real, n);
        int[] truth = Arrays.stream(g.items()).map(i -> labels.indexOf(data.label(i))).toArray();
        int[] genPred = null;
        int[] realPred = null;
        int[] classTruth = null;
        if (classifier != null) {
            genPred = classifier.predict((scope, from, to) -> stack(scope, g.generated(), from, to, data), n,
                    settings.batch(), manager);
            realPred = classifier.predict((scope, from, to) -> real.get(scope, from, to), n, settings.batch(),
                    manager);
            classTruth = classIndices(classifier.config(), data, g.items());
        }
        Map<String, int[]> subsets = new LinkedHashMap<>();
        subsets.put(g.name(), range(n));
        Map<String, List<Integer>> kinds = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String kind = data.item(g.items()[i]).holdout();
            if (kind != null) {
                kinds.computeIfAbsent(kind, k -> new ArrayList<>()).add(i);
            }
        }
        if (kinds.size() > 1) {
            kinds.forEach((kind, idx) -> subsets.put(g.name() + "_" + kind,
                    idx.stream().mapToInt(Integer::intValue).toArray()));
        }
        double realFid = realFloor(g, data, scorer, realFeatures);
        List<EvalReport.Row> rows = new ArrayList<>();
        for (Map.Entry<String, int[]> e : subsets.entrySet()) {
            int[] s = e.getValue();
            double fid = s.length < 2 ? Double.NaN
                    : FrechetDistance.between(pick(genFeatures, s), pick(realFeatures, s));
            Retrieval.Accuracy clip = LabelSet.accuracy(pick(genEmbeds, s), labelEmbeds, pick(truth, s));
            Retrieval.Accuracy realClip = LabelSet.accuracy(pick(realEmbeds, s), labelEmbeds, pick(truth, s));
            double acc = classifier == null ? Double.NaN : Accuracy.of(pick(genPred, s), pick(classTruth, s));
            double realAcc = classifier == null ? Double.NaN : Accuracy.of(pick(realPred, s), pick(classTruth, s));
            double sharp = Sharpness.mean(pick(g.generated(), s), data.channels(), data.height(), data.width());
            double realSharp = Sharpness.mean(Arrays.stream(pick(g.items(), s)).mapToObj(data::image)
                    .toArray(float[][]::new), data.channels(), data.height(), data.width());
            rows.add(new EvalReport.Row(e.getKey(), g.split(), s.length, clip, realClip, fid,
                    rows.isEmpty() ? realFid : Double.NaN, acc, realAcc, mean(g.wallMs(), s), mean(g.unetMs(), s),
                    sharp, realSharp));
        }
        EvalReport.Row main = rows.get(0);
        String classified = classifier == null ? "" : String.format(Locale.ROOT, ", classifier %.3f (real %.3f)",
                main.classifierAccuracy(), main.realClassifierAccuracy());
        log.printf(Locale.ROOT, "%s: CLIP top-1 %.3f top-5 %.3f (real %.3f / %.3f), CLIP-FID %.2f "
                + "(real vs real %.2f)%s, Laplacian variance %.4f (real %.4f), %.0f ms/image%n", main.name(),
                main.clip().top1(), main.clip().top5(), main.realClip().top1(), main.realClip().top5(), main.fid(),
                main.realFid(), classified, main.sharpness(), main.realSharpness(), main.msPerImage());
        return rows;
    }

    /**
     * The Frechet distance between the group's real images and as many other real images of the same split (fewer
     * when the split is small): the value a perfect generator would get at this sample size, since a Frechet distance
     * of few samples is biased upwards. NaN when the split has fewer than two other items.
     */
    private static double realFloor(Group g, ImageDataset data, ClipScorer scorer, float[][] realFeatures) {
        java.util.Set<Integer> used = new java.util.HashSet<>();
        for (int i : g.items()) {
            used.add(i);
        }
        int[] others = Arrays.stream(data.indices(g.split())).filter(i -> !used.contains(i)).toArray();
        int[] picked = DataOrder.sample(others, g.items().length, PROMPT_ORDER_SEED + 1);
        if (picked.length < 2) {
            return Double.NaN;
        }
        float[][] otherFeatures = scorer.imageFeatures(
                (scope, from, to) -> data.batch(scope, Arrays.copyOfRange(picked, from, to)), picked.length);
        return FrechetDistance.between(realFeatures, otherFeatures);
    }

    /** The classifier's class index of each item's label; an unknown label is an error naming it. */
    static int[] classIndices(ClassifierConfig config, ImageDataset data, int[] items) {
        int[] out = new int[items.length];
        for (int i = 0; i < items.length; i++) {
            String label = data.label(items[i]);
            out[i] = config.classNames().indexOf(label);
            if (out[i] < 0) {
                throw new MdxException("the classifier does not know the label '" + label + "' of "
                        + data.dir() + " (its classes: " + String.join(", ", config.classNames()) + ")");
            }
        }
        return out;
    }

    private void checkClip(ClipVisionConfig vision, ImageDataset data) {
        if (vision.imageSize() != data.height() || vision.imageSize() != data.width()
                || vision.numChannels() != data.channels()) {
            throw new MdxException("the CLIP in " + settings.clip() + " reads " + vision.imageSize() + "x"
                    + vision.imageSize() + "x" + vision.numChannels() + " images, but " + settings.dataset() + " has "
                    + data.height() + "x" + data.width() + "x" + data.channels() + " (a CLIP of another data set?)");
        }
    }

    /** Refuses a classifier (read from {@code dir}) whose input size or channels differ from the data set's. */
    static void checkClassifier(ClassifierConfig c, Path dir, ImageDataset data) {
        if (c.imageSize() != data.height() || c.imageSize() != data.width() || c.inChannels() != data.channels()) {
            throw new MdxException("the classifier in " + dir + " reads " + c.imageSize() + "x"
                    + c.imageSize() + "x" + c.inChannels() + " images, but " + data.dir() + " has "
                    + data.height() + "x" + data.width() + "x" + data.channels());
        }
    }

    static void requireFolder(Path dir, String what, String file) {
        if (!Files.isDirectory(dir)) {
            throw new MdxException(what + " " + dir + " does not exist");
        }
        if (!Files.isRegularFile(dir.resolve(file))) {
            throw new MdxException(what + " " + dir + " has no " + file);
        }
    }

    /** RGB bytes (H x W x 3) as (C, H, W) floats in [-1, 1]; one channel is the mean of R, G and B. */
    static float[] toChw(byte[] rgb, int plane, int channels) {
        float[] out = new float[channels * plane];
        for (int p = 0; p < plane; p++) {
            if (channels == 1) {
                int sum = (rgb[3 * p] & 0xff) + (rgb[3 * p + 1] & 0xff) + (rgb[3 * p + 2] & 0xff);
                out[p] = sum / 382.5f - 1f;
            } else {
                for (int c = 0; c < channels; c++) {
                    out[c * plane + p] = (rgb[3 * p + c] & 0xff) / 127.5f - 1f;
                }
            }
        }
        return out;
    }

    /** Images {@code from} to {@code to} of (C, H, W) float rows as one (n, C, H, W) array of the data set's size. */
    static ai.djl.ndarray.NDArray stack(NDManager scope, float[][] images, int from, int to,
            ImageDataset data) {
        int size = images[from].length;
        float[] flat = new float[(to - from) * size];
        for (int i = from; i < to; i++) {
            System.arraycopy(images[i], 0, flat, (i - from) * size, size);
        }
        return scope.create(flat, new Shape(to - from, data.channels(), data.height(), data.width()));
    }

    private static List<EvalGrid.Band> bands(List<Group> groups, ImageDataset data) {
        List<EvalGrid.Band> bands = new ArrayList<>();
        for (Group g : groups) {
            List<EvalGrid.Cell> cells = new ArrayList<>();
            for (int i = 0; i < Math.min(GRID_COLUMNS, g.items().length); i++) {
                cells.add(new EvalGrid.Cell(g.rgb().get(i), data.rgb(g.items()[i]), data.caption(g.items()[i])));
            }
            bands.add(new EvalGrid.Band(g.name() + " (" + g.split() + " split): generated above, real below", cells));
        }
        return bands;
    }

    private static int[] range(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = i;
        }
        return out;
    }

    private static float[][] pick(float[][] rows, int[] idx) {
        float[][] out = new float[idx.length][];
        for (int i = 0; i < idx.length; i++) {
            out[i] = rows[idx[i]];
        }
        return out;
    }

    private static int[] pick(int[] values, int[] idx) {
        int[] out = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            out[i] = values[idx[i]];
        }
        return out;
    }

    private static double mean(double[] values, int[] idx) {
        double s = 0;
        for (int i : idx) {
            s += values[i];
        }
        return idx.length == 0 ? 0 : s / idx.length;
    }
}
