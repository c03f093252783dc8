package dev.mdx.train.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.train.Trainer;
import dev.mdx.train.TrainingConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contrastive stage end to end on the coloured-squares problem, through the real trainer. */
class ClipContrastiveTest {
    @TempDir
    Path tmp;

    @Test
    void lossFallsFarBelowLogBatchAndRetrievalIsPerfect() {
        BpeVocabulary vocab = new BpeTrainer(530, 1).train(ColouredSquares.captions());
        Path tokDir = tmp.resolve("tokenizer");
        ClipTokenizerFiles.write(tokDir, vocab, 16);
        ClipTokenizer tokenizer = ClipTokenizer.load(tokDir);
        int steps = 40;
        TrainingConfig cfg = TrainingConfig.parse("test", """
                {"trainer": {"max_train_steps": %d, "learning_rate": 0.002, "lr_warmup_steps": 5,
                 "adam_weight_decay": 0.0, "max_grad_norm": 1.0, "use_ema": false, "seed": 3,
                 "checkpointing_steps": 100000, "log_every": 100000}}
                """.formatted(steps));
        try (NDManager weights = NDManager.newBaseManager()) {
            ClipModel model = new ClipModel(ColouredSquares.config(tokenizer.vocabSize()));
            model.initRandom(weights, 17);
            double logBatch = Math.log(ColouredSquares.NAMES.size());
            double before = evalLoss(model, tokenizer, weights);
            long t0 = System.nanoTime();
            try (Trainer<ClipBatch> trainer = Trainer.builder(model, ClipTrainStep.loss(model),
                    ColouredSquares.source(tokenizer), cfg, tmp.resolve("run"))
                    .progress(new PrintStream(new ByteArrayOutputStream()), false).shutdownHook(false).build()) {
                trainer.run(false);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            double after = evalLoss(model, tokenizer, weights);
            ClipScorer scorer = new ClipScorer(model, tokenizer, weights, 4);
            ClipScorer.Report report = scorer.retrieval((scope, from, to) -> fixedImages(scope, from, to),
                    ColouredSquares.captions());
            System.out.printf("coloured squares: loss %.4f -> %.4f (log 8 = %.4f) in %d steps, %.1f s; "
                    + "logit scale %.2f; image->text top1 %.3f, text->image top1 %.3f%n", before, after, logBatch,
                    steps, seconds, model.logitScaleValue(), report.imageToText().top1(),
                    report.textToImage().top1());
            assertTrue(before > 0.8 * logBatch, "an untrained model is near chance: " + before);
            assertTrue(after < 0.1 * logBatch, "loss " + before + " -> " + after);
            assertEquals(1.0, report.imageToText().top1());
            assertEquals(1.0, report.textToImage().top1());
            assertEquals(8, report.captions());
        }
    }

    /** Each colour once, squares at fixed places different from the corners. */
    private static NDArray fixedImages(NDManager scope, int from, int to) {
        int n = to - from;
        int[] colours = new int[n];
        int[] ys = new int[n];
        int[] xs = new int[n];
        for (int i = 0; i < n; i++) {
            colours[i] = from + i;
            ys[i] = (3 * (from + i)) % 11;
            xs[i] = (5 * (from + i) + 2) % 11;
        }
        return ColouredSquares.images(scope, colours, ys, xs);
    }

    private static double evalLoss(ClipModel model, ClipTokenizer tokenizer, NDManager parent) {
        try (NDManager scope = parent.newSubManager()) {
            List<String> captions = ColouredSquares.captions();
            ClipBatch batch = new ClipBatch(fixedImages(scope, 0, 8), CaptionIds.encode(tokenizer, captions, scope),
                    new int[] {0, 1, 2, 3, 4, 5, 6, 7});
            return ClipTrainStep.loss(model, batch).getFloat();
        }
    }
}
