package dev.mdx.train.clip;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import dev.mdx.text.ClipTokenizer;
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
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Trains mdx's own small CLIP on a captioned image data set: learns the BPE tokenizer from the train split's
 * captions, then trains both towers with the contrastive loss through the shared {@link Trainer}, scoring retrieval
 * on train and test images every {@code sample_every} steps. A finished run leaves, in the output folder:
 *
 * <ul>
 *   <li>{@code tokenizer/}: vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json</li>
 *   <li>{@code text_encoder/}: the text tower as a diffusers text encoder (CLIPTextModel config.json and
 *       model.safetensors with text_model.* keys), the frozen text encoder of mdx's diffusion models</li>
 *   <li>{@code clip/}: the whole CLIPModel (config.json, model.safetensors) and its tokenizer files, for scoring
 *       images ({@link ClipScorer#load})</li>
 *   <li>{@code eval.jsonl} (one line per evaluation), {@code train_log.csv} and the trainer's checkpoints</li>
 * </ul>
 *
 * Exported weights are the EMA weights when the trainer keeps an EMA. Running again on the same folder resumes from
 * the newest checkpoint (the tokenizer is learned again, identically).
 */
public final class ClipTraining {
    public static final String TOKENIZER_DIR = "tokenizer";
    public static final String TEXT_ENCODER_DIR = "text_encoder";
    public static final String CLIP_DIR = "clip";
    public static final String EVAL_LOG = "eval.jsonl";
    /** Seed of the fixed evaluation subsets, independent of the run's seed so every run is scored on the same items. */
    private static final long EVAL_ORDER_SEED = 0x65766c;
    private static final int EVAL_CHUNK = 64;

    /** What a run produced: its last step, whether it was stopped early, and the last evaluation (null if none). */
    public record Result(long step, boolean stopped, double lastLoss, Evaluation evaluation) {}

    /** Retrieval on a subset of the train split and of the test split. */
    public record Evaluation(long step, ClipScorer.Report train, ClipScorer.Report test, double logitScale) {}

    private final PrintStream out;

    public ClipTraining(PrintStream out) {
        this.out = out;
    }

    /** Trains (or resumes) with the config file's settings into {@code outDir}. */
    public static Result run(Path configJson, Path outDir) {
        return new ClipTraining(System.out).train(configJson, outDir, true);
    }

    public Result train(Path configJson, Path outDir, boolean resume) {
        JsonConfig doc = JsonConfig.read(configJson);
        TrainingConfig trainerConfig = TrainingConfig.fromDocument(doc);
        ClipStageConfig stage = ClipStageConfig.from(doc);
        ImageDataset data = ImageDataset.open(stage.dataset());
        if (data.height() != data.width()) {
            throw new DatasetException(stage.dataset() + ": images are " + data.height() + "x"
                    + data.width() + "; the image tower takes square images");
        }
        if (trainerConfig.trainBatchSize() < 2) {
            throw TrainingConfig.error(doc, "train_batch_size", "must be at least 2 for stage clip (the other"
                    + " captions of a batch are an image's negatives), got " + trainerConfig.trainBatchSize());
        }
        int[] train = data.trainingPool(DatasetItem.TRAIN, trainerConfig.trainBatchSize());
        int[] test = data.indices(DatasetItem.TEST);

        long t0 = System.nanoTime();
        Path tokenizerDir = outDir.resolve(TOKENIZER_DIR);
        BpeVocabulary vocab = new BpeTrainer(stage.vocabSize(), stage.minFrequency()).train(trainCaptions(data, train));
        ClipTokenizerFiles.write(tokenizerDir, vocab, stage.modelMaxLength());
        ClipTokenizer tokenizer = ClipTokenizer.load(tokenizerDir);
        out.printf(Locale.ROOT, "tokenizer: %d tokens (%d merges) from the captions of %d train items in %.1f s%n",
                vocab.size(), vocab.merges().size(), train.length, (System.nanoTime() - t0) / 1e9);

        ClipModelConfig modelConfig = stage.modelConfig(tokenizer.vocabSize(), data.height(), data.channels());
        int[] trainEval = subset(train, stage.evalImages());
        int[] testEval = subset(test, stage.evalImages());
        try (NDManager weights = NDManager.newBaseManager()) {
            ClipModel model = new ClipModel(modelConfig);
            model.initRandom(weights, trainerConfig.seed());
            out.printf(Locale.ROOT, "model: %,d parameters (text tower %,d, image tower %,d); images %dx%dx%d, "
                    + "%d patches%n", model.parameterCount(), parameters(model, "text_"),
                    parameters(model, "vision_model.") + parameters(model, "visual_projection."),
                    modelConfig.vision().numChannels(), data.height(), data.width(),
                    modelConfig.vision().numPatches());
            ImageCaptionSource source = new ImageCaptionSource(data, train, trainerConfig.trainBatchSize(),
                    trainerConfig.seed(), tokenizer, stage.captionVariants(), stage.fillerWords());
            Evaluator evaluator = new Evaluator(model, tokenizer, data, trainEval, testEval, outDir);
            Trainer.Builder<ClipBatch> builder = Trainer.builder(model, ClipTrainStep.loss(model), source,
                    trainerConfig, outDir).progress(out, out == System.out && System.console() != null);
            if (trainEval.length + testEval.length > 0) {
                builder.hook(evaluator::onStep);
            }
            try (Trainer<ClipBatch> trainer = builder.build()) {
                Trainer.Result r = trainer.run(resume);
                if (!r.stopped()) {
                    export(model, trainer.ema(), trainer, vocab, stage.modelMaxLength(), outDir);
                }
                return new Result(r.step(), r.stopped(), r.lastLoss(), evaluator.last);
            }
        }
    }

    private static long parameters(ClipModel model, String prefix) {
        return model.namedParameters().entrySet().stream().filter(e -> e.getKey().startsWith(prefix))
                .mapToLong(e -> e.getValue().shape().size()).sum();
    }

    /** Every caption variant of the train items: the text the text tower will see. */
    static List<String> trainCaptions(ImageDataset data, int[] train) {
        List<String> out = new ArrayList<>();
        for (int i : train) {
            out.addAll(data.item(i).captions());
        }
        return out;
    }

    /** A fixed, seeded sample of up to {@code n} items of a split, in ascending order. */
    static int[] subset(int[] split, int n) {
        return DataOrder.sample(split, n, EVAL_ORDER_SEED);
    }

    private void export(ClipModel model, Ema ema, Trainer<ClipBatch> trainer, BpeVocabulary vocab,
            int modelMaxLength, Path outDir) {
        Runnable save = () -> {
            model.saveTextEncoder(outDir.resolve(TEXT_ENCODER_DIR));
            model.save(outDir.resolve(CLIP_DIR));
            // as transformers' CLIP folders hold their tokenizer files beside the model
            ClipTokenizerFiles.write(outDir.resolve(CLIP_DIR), vocab, modelMaxLength);
        };
        if (ema == null) {
            save.run();
        } else {
            try (Ema.Swap swap = ema.swapInto(trainer.trainable())) {
                save.run();
            }
        }
        out.println("saved " + outDir.resolve(TEXT_ENCODER_DIR) + " and " + outDir.resolve(CLIP_DIR)
                + (ema == null ? "" : " (EMA weights)"));
    }

    /** The periodic hook: retrieval accuracy on fixed train and test subsets, with the EMA weights. */
    private final class Evaluator {
        private final ClipModel model;
        private final ClipTokenizer tokenizer;
        private final ImageDataset data;
        private final int[] trainItems;
        private final int[] testItems;
        private final Path outDir;
        private Evaluation last;

        Evaluator(ClipModel model, ClipTokenizer tokenizer, ImageDataset data, int[] trainItems, int[] testItems,
                Path outDir) {
            this.model = model;
            this.tokenizer = tokenizer;
            this.data = data;
            this.trainItems = trainItems;
            this.testItems = testItems;
            this.outDir = outDir;
        }

        void onStep(HookContext ctx) {
            long t0 = System.nanoTime();
            last = ctx.withEmaWeights(() -> {
                ClipScorer scorer = new ClipScorer(model, tokenizer, ctx.scope(), EVAL_CHUNK);
                return new Evaluation(ctx.step(), score(scorer, trainItems), score(scorer, testItems),
                        model.logitScaleValue());
            });
            out.printf(Locale.ROOT, "eval at step %d (%.1f s): %s; %s; logit scale %.1f%n", ctx.step(),
                    (System.nanoTime() - t0) / 1e9, describe("train", last.train()), describe("test", last.test()),
                    last.logitScale());
            append(outDir.resolve(EVAL_LOG), toJson(last));
        }

        private ClipScorer.Report score(ClipScorer scorer, int[] items) {
            if (items.length == 0) {
                return null;
            }
            List<String> captions = Arrays.stream(items).mapToObj(data::caption).toList();
            return scorer.retrieval((scope, from, to) -> data.batch(scope, Arrays.copyOfRange(items, from, to)),
                    captions);
        }
    }

    static String describe(String split, ClipScorer.Report r) {
        if (r == null) {
            return split + ": none";
        }
        return String.format(Locale.ROOT, "%s %d images/%d captions: image->text top1 %.3f top5 %.3f, "
                + "text->image top1 %.3f top5 %.3f", split, r.images(), r.captions(), r.imageToText().top1(),
                r.imageToText().top5(), r.textToImage().top1(), r.textToImage().top5());
    }

    static String toJson(Evaluation e) {
        ObjectNode o = JsonConfig.MAPPER.createObjectNode();
        o.put("step", e.step());
        o.put("logit_scale", e.logitScale());
        putReport(o, "train", e.train());
        putReport(o, "test", e.test());
        return o.toString();
    }

    private static void putReport(ObjectNode o, String key, ClipScorer.Report r) {
        if (r == null) {
            return;
        }
        ObjectNode n = o.putObject(key);
        n.put("images", r.images());
        n.put("captions", r.captions());
        n.put("image_to_text_top1", r.imageToText().top1());
        n.put("image_to_text_top5", r.imageToText().top5());
        n.put("text_to_image_top1", r.textToImage().top1());
        n.put("text_to_image_top5", r.textToImage().top5());
    }

    private static void append(Path file, String line) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** {@code ClipTraining CONFIG.json OUT_DIR}: trains or resumes. */
    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: ClipTraining CONFIG.json OUT_DIR");
            System.exit(2);
        }
        Result r = run(Path.of(args[0]), Path.of(args[1]));
        System.out.println((r.stopped() ? "stopped" : "finished") + " at step " + r.step() + ", last loss "
                + r.lastLoss());
    }
}
