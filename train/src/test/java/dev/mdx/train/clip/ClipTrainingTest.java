package dev.mdx.train.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.text.ClipTextModel;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.ImageDataset;
import dev.mdx.train.data.ImageDatasetWriter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training entry point on a small cached data set of coloured squares: outputs, evaluation, resume. */
class ClipTrainingTest {
    @TempDir
    Path tmp;

    /** 8 colours at 7 places: 6 places train, 1 test; three caption variants each. */
    static Path writeDataset(Path dir) {
        int size = ColouredSquares.SIZE;
        try (ImageDatasetWriter w = new ImageDatasetWriter(dir, "squares", size, size, 3)) {
            for (int place = 0; place < 7; place++) {
                for (int c = 0; c < ColouredSquares.NAMES.size(); c++) {
                    byte[] hwc = new byte[size * size * 3];
                    int y0 = (3 * place + c) % 11;
                    int x0 = (5 * place + 2 * c) % 11;
                    for (int y = 0; y < size; y++) {
                        for (int x = 0; x < size; x++) {
                            boolean in = y >= y0 && y < y0 + ColouredSquares.SQUARE && x >= x0
                                    && x < x0 + ColouredSquares.SQUARE;
                            for (int ch = 0; ch < 3; ch++) {
                                float v = in ? ColouredSquares.RGB[c][ch] : -1f;
                                hwc[(y * size + x) * 3 + ch] = (byte) Math.round((v + 1) * 127.5f);
                            }
                        }
                    }
                    String name = ColouredSquares.NAMES.get(c);
                    w.add(hwc, new DatasetItem(0, place == 6 ? DatasetItem.TEST : DatasetItem.TRAIN, name, c, null,
                            List.of(name + " square", "a " + name + " square", "square, " + name),
                            c + "/" + place, null));
                }
            }
            w.finish(JsonConfig.MAPPER.createObjectNode(), JsonConfig.MAPPER.createObjectNode());
        }
        return dir;
    }

    private Path config(Path dataset, int steps) throws Exception {
        Path file = tmp.resolve("clip-" + steps + ".json");
        Files.writeString(file, """
                {"trainer": {"max_train_steps": %d, "train_batch_size": 8, "learning_rate": 0.002,
                   "lr_warmup_steps": 5, "adam_weight_decay": 0.0, "max_grad_norm": 1.0, "use_ema": true,
                   "ema_decay": 0.99, "ema_use_warmup": true, "seed": 7, "checkpointing_steps": 15,
                   "sample_every": 15, "log_every": 1000},
                 "data": {"dataset": "%s", "caption_variants": true, "eval_images": 8},
                 "tokenizer": {"vocab_size": 530, "min_frequency": 1, "model_max_length": 16},
                 "model": {"projection_dim": 32,
                   "text": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                            "num_attention_heads": 2},
                   "vision": {"patch_size": 4, "hidden_size": 32, "intermediate_size": 64,
                              "num_hidden_layers": 2, "num_attention_heads": 2}}}
                """.formatted(steps, dataset.toString().replace("\\", "\\\\")), StandardCharsets.UTF_8);
        return file;
    }

    @Test
    void trainsExportsEvaluatesAndResumes() throws Exception {
        Path dataset = writeDataset(tmp.resolve("squares"));
        Path out = tmp.resolve("out");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        ClipTraining training = new ClipTraining(new PrintStream(log, true, StandardCharsets.UTF_8));

        ClipTraining.Result first = training.train(config(dataset, 30), out, true);
        assertEquals(30, first.step());
        assertFalse(first.stopped());
        assertTrue(first.lastLoss() < Math.log(8), "loss " + first.lastLoss());
        for (String f : List.of("tokenizer/vocab.json", "tokenizer/merges.txt", "tokenizer/tokenizer_config.json",
                "tokenizer/special_tokens_map.json", "text_encoder/config.json", "text_encoder/model.safetensors",
                "clip/config.json", "clip/model.safetensors", "eval.jsonl", "train_log.csv")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing; log:\n" + log);
        }
        List<String> evals = Files.readAllLines(out.resolve(ClipTraining.EVAL_LOG));
        assertEquals(2, evals.size(), "evaluations at steps 15 and 30");
        assertEquals(30, JsonConfig.parse("eval", evals.get(1)).requireInt("step"));
        assertEquals(8, first.evaluation().test().images());
        assertEquals(8, first.evaluation().test().captions());

        // what a diffusion model uses: the tokenizer and the text encoder folders, loaded by the inference classes
        ClipTokenizer tokenizer = ClipTokenizer.load(out.resolve(ClipTraining.TOKENIZER_DIR));
        try (NDManager weights = NDManager.newBaseManager(); NDManager scope = weights.newSubManager()) {
            ClipTextModel text = ClipTextModel.load(out.resolve(ClipTraining.TEXT_ENCODER_DIR), weights);
            ClipModel clip = ClipModel.load(out.resolve(ClipTraining.CLIP_DIR), weights);
            assertEquals(tokenizer.vocabSize(), text.config().vocabSize());
            NDArray ids = CaptionIds.encode(tokenizer, List.of("red square", "a blue square"), scope);
            ClipModelTest.assertClose(clip.textModel().forward(ids).pooledOutput(), text.forward(ids).pooledOutput(),
                    0, "exported text encoder vs CLIP text tower");
            // the exported CLIP scores the test images as the last evaluation did
            ImageDataset data = ImageDataset.open(dataset);
            int[] test = data.indices(DatasetItem.TEST);
            ClipScorer scorer = ClipScorer.load(out.resolve(ClipTraining.CLIP_DIR), weights, 3);
            assertEquals(tokenizer.vocabSize(), scorer.tokenizer().vocabSize());
            ClipScorer.Report report = scorer.retrieval(
                    (s, from, to) -> data.batch(s, java.util.Arrays.copyOfRange(test, from, to)),
                    java.util.Arrays.stream(test).mapToObj(data::caption).toList());
            assertEquals(first.evaluation().test(), report);
        }
        System.out.print(log);

        ClipTraining.Result resumed = training.train(config(dataset, 40), out, true);
        assertEquals(40, resumed.step());
        assertTrue(log.toString().contains("resumed from"), log.toString());
        assertEquals(3, Files.readAllLines(out.resolve(ClipTraining.EVAL_LOG)).size());
    }

    @Test
    void configErrorsNameTheField() throws Exception {
        Path file = tmp.resolve("bad.json");
        Files.writeString(file, """
                {"trainer": {"max_train_steps": 1},
                 "data": {"dataset": "x", "eval_image": 3},
                 "tokenizer": {}, "model": {"text": {}, "vision": {}}}
                """);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ClipStageConfig.read(file));
        assertTrue(e.getMessage().contains("eval_image"), e.getMessage());
        Files.writeString(file, """
                {"data": {"dataset": "x"}, "tokenizer": {"vocab_size": 100}, "model": {"text": {}, "vision": {}}}
                """);
        e = assertThrows(ModelFormatException.class, () -> ClipStageConfig.read(file));
        assertTrue(e.getMessage().contains("vocab_size"), e.getMessage());
        Files.writeString(file, """
                {"data": {"dataset": "x", "filler_words": 1.5}, "tokenizer": {}, "model": {"text": {}, "vision": {}}}
                """);
        e = assertThrows(ModelFormatException.class, () -> ClipStageConfig.read(file));
        assertTrue(e.getMessage().contains("filler_words"), e.getMessage());
        Files.writeString(file, """
                {"data": {"dataset": "x", "filler_words": 0.5}, "tokenizer": {}, "model": {"text": {}, "vision": {}}}
                """);
        assertEquals(0.5, ClipStageConfig.read(file).fillerWords());
    }
}
