package dev.mdx.train.classifier;

import java.nio.charset.StandardCharsets;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.StateDicts;
import dev.mdx.train.Ema;
import dev.mdx.train.HookContext;
import dev.mdx.train.Trainer;
import dev.mdx.train.TrainingConfig;
import dev.mdx.train.data.DataOrder;
import dev.mdx.train.data.DatasetException;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.ImageDataset;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code mdx train classifier}: a small CNN ({@link ImageClassifier}) trained with cross-entropy on a labelled data
 * set (Fashion-MNIST), then exported as {@code OUT/classifier/} (config.json + model.safetensors, fp16 when that
 * keeps the accuracy within {@code fp16_tolerance}) with {@code OUT/report.json} (accuracy on the eval split).
 *
 * <pre>
 * "trainer": { TrainingConfig }
 * "data":   { "dataset": "DIR", "train_split": "train", "eval_split": "test", "eval_images": 0, "probe_images": 1000 }
 * "model":  { "channels": [16, 32, 64], "hidden_size": 128 }
 * "export": { "dtype": "float16", "fp16_tolerance": 0.0005 }
 * </pre>
 *
 * Relative paths resolve against the config file's folder. The class names are the data set's labels by class id.
 */
public final class ClassifierTraining {
    public static final String CLASSIFIER_DIR = "classifier";
    public static final String REPORT = "report.json";
    private static final long PROBE_SEED = 0x70726f6265L;
    private static final int CHUNK = 256;
    private static final Set<String> TOP = new TreeSet<>(List.of("trainer", "data", "model", "export"));
    private static final Set<String> DATA = new TreeSet<>(List.of("dataset", "train_split", "eval_split",
            "eval_images", "probe_images"));
    private static final Set<String> MODEL = new TreeSet<>(List.of("channels", "hidden_size"));
    private static final Set<String> EXPORT = new TreeSet<>(List.of("dtype", "fp16_tolerance"));

    /** Test-split accuracy of the exported weights. */
    public record Report(long steps, double accuracy, double accuracyFp32, double accuracyFp16, boolean float16,
            int evalImages, double lastLoss) {}

    private ClassifierTraining() {}

    /** Trains (or resumes), exports and evaluates; the outcome's report is null when the run was stopped. */
    public static Trainer.Result run(Path configFile, Path outDir, boolean resume, PrintStream out) {
        JsonConfig doc = JsonConfig.read(configFile);
        Path base = configFile.toAbsolutePath().getParent();
        doc.rejectUnknown(TOP);
        TrainingConfig trainer = TrainingConfig.fromDocument(doc);
        JsonConfig data = doc.section("data", true);
        data.rejectUnknown(DATA);
        JsonConfig modelJson = doc.section("model", false);
        modelJson.rejectUnknown(MODEL);
        JsonConfig export = doc.section("export", false);
        export.rejectUnknown(EXPORT);
        String dataset = data.getString("dataset", null);
        if (dataset == null) {
            throw data.error("dataset", "is missing");
        }
        ImageDataset set = ImageDataset.open(base.resolve(dataset));
        int[] train = set.indices(data.getString("train_split", DatasetItem.TRAIN));
        int[] eval = subset(set.indices(data.getString("eval_split", DatasetItem.TEST)),
                data.getNonNegativeInt("eval_images", 0), 0);
        int[] probe = subset(eval, data.getNonNegativeInt("probe_images", 1000), PROBE_SEED);
        String dtype = export.getString("dtype", "float16");
        if (!dtype.equals("float16") && !dtype.equals("float32")) {
            throw export.error("dtype", "must be \"float16\" or \"float32\", got \"" + dtype + "\"");
        }
        double tolerance = export.getDouble("fp16_tolerance", 0.0005);
        if (set.height() != set.width()) {
            throw new DatasetException(set.dir() + ": images are " + set.height() + "x" + set.width()
                    + "; the classifier takes square images");
        }
        ClassifierConfig config = new ClassifierConfig(set.channels(), set.height(),
                modelJson.getInts("channels", new int[] {16, 32, 64}), modelJson.getInt("hidden_size", 128),
                classNames(set));

        try (NDManager weights = NDManager.newBaseManager()) {
            ImageClassifier model = new ImageClassifier(config);
            StateDicts.initRandom(model, weights, trainer.seed());
            out.printf(Locale.ROOT, "classifier: %,d parameters, %d classes, %d training images, %d eval images%n",
                    model.parameterCount(), config.numClasses(), train.length, eval.length);
            LabelledBatches batches = new LabelledBatches(set, train, trainer.seed(), trainer.trainBatchSize(),
                    config.numClasses());
            Trainer.Builder<LabelledBatches.Batch> builder = Trainer.builder(model,
                    (batch, ctx) -> LabelledBatches.crossEntropy(model, batch), batches, trainer, outDir)
                    .progress(out, false);
            if (probe.length > 0) {
                builder.hook(ctx -> probe(ctx, model, set, probe, out));
            }
            try (Trainer<LabelledBatches.Batch> t = builder.build()) {
                Trainer.Result r = t.run(resume);
                if (!r.stopped()) {
                    Report report = export(model, t, set, eval, dtype.equals("float16"), tolerance, outDir,
                            r.lastLoss(), weights);
                    out.printf(Locale.ROOT, "exported %s: %s accuracy %.4f on %d %s images (fp32 %.4f, fp16 %.4f)%n",
                            outDir.resolve(CLASSIFIER_DIR), report.float16() ? "fp16" : "fp32", report.accuracy(),
                            report.evalImages(), data.getString("eval_split", DatasetItem.TEST),
                            report.accuracyFp32(), report.accuracyFp16());
                }
                return r;
            }
        }
    }

    /** The accuracy of {@code model} on the images {@code items} of a data set, labels from their class ids. */
    public static double accuracy(ImageClassifier model, ImageDataset set, int[] items, NDManager parent) {
        int[] predicted = model.predict((scope, from, to) -> set.batch(scope, Arrays.copyOfRange(items, from, to)),
                items.length, CHUNK, parent);
        return Accuracy.of(predicted, classIds(set, items));
    }

    static int[] classIds(ImageDataset set, int[] items) {
        return Arrays.stream(items).map(i -> set.item(i).classId()).toArray();
    }

    private static void probe(HookContext ctx, ImageClassifier model, ImageDataset set, int[] probe, PrintStream out) {
        double acc = ctx.withEmaWeights(() -> accuracy(model, set, probe, ctx.scope()));
        out.printf(Locale.ROOT, "step %d: accuracy %.4f on %d probe images%n", ctx.step(), acc, probe.length);
    }

    private static Report export(ImageClassifier model, Trainer<?> trainer, ImageDataset set, int[] eval,
            boolean wantFp16, double tolerance, Path outDir, double lastLoss, NDManager weights) {
        Path dir = outDir.resolve(CLASSIFIER_DIR);
        Ema ema = trainer.ema();
        double fp32;
        double fp16 = Double.NaN;
        boolean float16 = false;
        try (Ema.Swap swap = ema == null ? null : ema.swapInto(trainer.trainable())) {
            fp32 = accuracy(model, set, eval, weights);
            if (wantFp16) {
                model.save(dir, true);
                try (NDManager reloaded = weights.newSubManager()) {
                    fp16 = accuracy(ImageClassifier.load(dir, reloaded), set, eval, reloaded);
                }
                float16 = Math.abs(fp16 - fp32) <= tolerance;
            }
            if (!float16) {
                model.save(dir, false);
            }
        }
        int[] predicted;
        try (NDManager scope = weights.newSubManager()) {
            ImageClassifier shipped = ImageClassifier.load(dir, scope);
            predicted = shipped.predict((s, from, to) -> set.batch(s, Arrays.copyOfRange(eval, from, to)),
                    eval.length, CHUNK, scope);
        }
        int[] truth = classIds(set, eval);
        Report report = new Report(trainer.step(), Accuracy.of(predicted, truth), fp32, fp16, float16, eval.length,
                lastLoss);
        writeReport(outDir.resolve(REPORT), report, model, set,
                Accuracy.perClass(predicted, truth, model.config().numClasses()), outDir);
        return report;
    }

    private static void writeReport(Path file, Report r, ImageClassifier model, ImageDataset set, double[] perClass,
            Path outDir) {
        ObjectNode o = JsonConfig.MAPPER.createObjectNode();
        o.put("dataset", set.dir().toAbsolutePath().normalize().toString());
        o.put("steps", r.steps());
        o.put("parameters", model.parameterCount());
        o.put("eval_images", r.evalImages());
        o.put("accuracy", r.accuracy());
        o.put("accuracy_fp32", r.accuracyFp32());
        if (!Double.isNaN(r.accuracyFp16())) {
            o.put("accuracy_fp16", r.accuracyFp16());
        }
        o.put("dtype", r.float16() ? "float16" : "float32");
        o.put("last_loss", r.lastLoss());
        double seconds = trainSeconds(outDir);
        if (!Double.isNaN(seconds)) {
            o.put("train_seconds", seconds);
        }
        ObjectNode classes = o.putObject("per_class_accuracy");
        for (int c = 0; c < perClass.length; c++) {
            classes.put(model.config().classNames().get(c), perClass[c]);
        }
        AtomicFiles.writeBytes(file, JsonConfig.pretty(o).getBytes(StandardCharsets.UTF_8));
    }

    /** The training wall time of the whole run (all resumes), from the last row of the trainer's CSV. */
    private static double trainSeconds(Path outDir) {
        try {
            List<String> rows = Files.readAllLines(outDir.resolve("train_log.csv"));
            String[] last = rows.get(rows.size() - 1).split(",");
            return Double.parseDouble(last[last.length - 1]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Class names by class id: the label of the items of each id, which must run 0..K-1. */
    static List<String> classNames(ImageDataset set) {
        List<String> names = new ArrayList<>();
        for (DatasetItem item : set.items()) {
            int id = item.classId();
            if (id < 0) {
                throw new DatasetException(set.dir() + ": item " + item.index() + " has class id " + id);
            }
            while (names.size() <= id) {
                names.add(null);
            }
            if (names.get(id) == null) {
                names.set(id, item.label());
            } else if (!names.get(id).equals(item.label())) {
                throw new DatasetException(set.dir() + ": class id " + id + " has two labels, '" + names.get(id)
                        + "' and '" + item.label() + "'");
            }
        }
        if (names.contains(null)) {
            throw new DatasetException(set.dir() + ": class ids are not contiguous (id " + names.indexOf(null)
                    + " has no items)");
        }
        return names;
    }

    /** A fixed, seeded sample of {@code n} items of a split (all for n = 0), ascending. */
    static int[] subset(int[] split, int n, long seed) {
        return DataOrder.sample(split, n == 0 ? split.length : n, seed);
    }
}
