package dev.mdx.train.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.StateDicts;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.schedule.PredictionType;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.text.ClipTextModel;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.text.ClipTokenizerConfig;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.train.DataPosition;
import dev.mdx.train.Rng;
import dev.mdx.train.Trainer;
import dev.mdx.train.TrainingConfig;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The denoiser objective on a tiny text-conditioned problem: the loss must fall within seconds. */
class DiffusionTrainingTest {
    @TempDir
    Path dir;

    static ClipTokenizer letterTokenizer() {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        vocab.put("<|startoftext|>", 0);
        vocab.put("<|endoftext|>", 1);
        for (char c = 'a'; c <= 'z'; c++) {
            vocab.put(String.valueOf(c), vocab.size());
            vocab.put(c + "</w>", vocab.size());
        }
        return new ClipTokenizer(vocab, Map.of(), ClipTokenizerConfig.defaults());
    }

    static ClipTextModel tinyTextEncoder(NDManager m) {
        return tinyTextEncoder(m, 77);
    }

    static ClipTextModel tinyTextEncoder(NDManager m, int positions) {
        ClipTextModel text = new ClipTextModel(ClipTextConfig.from(JsonConfig.parse("tiny", "{\"vocab_size\": 54,"
                + "\"hidden_size\": 16, \"intermediate_size\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
                + "\"max_position_embeddings\": " + positions + ", \"hidden_act\": \"quick_gelu\", \"bos_token_id\": 0,"
                + "\"eos_token_id\": 1, \"pad_token_id\": 1, \"projection_dim\": 16}")));
        StateDicts.initRandom(text, m, 3);
        return text;
    }

    static UNetConfig tinyUnet() {
        return UNetConfig.parse("tiny", "{\"in_channels\": 4, \"out_channels\": 4, \"block_out_channels\": [16, 32],"
                + "\"down_block_types\": [\"DownBlock2D\", \"CrossAttnDownBlock2D\"],"
                + "\"up_block_types\": [\"CrossAttnUpBlock2D\", \"UpBlock2D\"], \"layers_per_block\": 1,"
                + "\"norm_num_groups\": 8, \"cross_attention_dim\": 16, \"attention_head_dim\": 2, \"sample_size\": 8}");
    }

    /**
     * A tokenizer longer than its text encoder (77 against 16 positions here; the stage config names the two
     * folders separately) is read at the encoder's length, as the pipeline reads prompts, instead of failing.
     */
    @Test
    void captionsAreCutToTheTextEncodersLength() {
        try (NDManager m = NDManager.newBaseManager()) {
            TextConditioning text = new TextConditioning(tinyTextEncoder(m, 16), letterTokenizer());
            assertEquals(new Shape(2, 16, 16), text.encode(List.of("a fox", "a very long caption ".repeat(9)), m)
                    .getShape());
        }
    }

    /**
     * A tokenizer of another model (ids past the text encoder's vocabulary) is refused when the stage is set up, not
     * reported by the engine as an index error at the first batch.
     */
    @Test
    void aTokenizerOfAnotherModelIsAModelError() {
        ClipTextModel small = new ClipTextModel(ClipTextConfig.from(JsonConfig.parse("small", "{\"vocab_size\": 40,"
                + "\"hidden_size\": 16, \"intermediate_size\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
                + "\"max_position_embeddings\": 77, \"bos_token_id\": 0, \"eos_token_id\": 1, \"pad_token_id\": 1}")));
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> new TextConditioning(small, letterTokenizer()));
        assertTrue(e.getMessage().contains("ids up to 53 but the text encoder's vocab_size is 40"), e.getMessage());
    }

    @Test
    void batchesArePureFunctionsOfThePosition() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] latents = new float[6 * 2];
            for (int i = 0; i < latents.length; i++) {
                latents[i] = i / 2;
            }
            List<List<String>> captions = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                captions.add(List.of("c" + i));
            }
            LatentBatchSource src = new LatentBatchSource(latents, new Shape(2), captions, 4, 0.0, 9);
            var a = src.next(m, DataPosition.START, new Rng(1));
            var b = src.next(m, DataPosition.START, new Rng(1));
            assertEquals(a.batch().captions(), b.batch().captions());
            assertEquals(new DataPosition(0, 4), a.position());
            // a ragged tail starts the next epoch, which has a different order of the same examples
            var c = src.next(m, a.position(), new Rng(1));
            assertEquals(new DataPosition(1, 4), c.position());
            float[] first = a.batch().latents().toFloatArray();
            for (int i = 0; i < 4; i++) {
                assertEquals("c" + (int) first[2 * i], a.batch().captions().get(i), "latent and caption stay paired");
            }
            LatentBatchSource dropAll = new LatentBatchSource(latents, new Shape(2), captions, 4, 0.999, 9);
            assertEquals(List.of("", "", "", ""), dropAll.next(m, DataPosition.START, new Rng(1)).batch().captions());
        }
    }

    @Test
    void denoisingLossFallsOnATinyProblem() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(tinyUnet());
            StateDicts.initRandom(unet, m, 1);
            DiffusionLoss loss = new DiffusionLoss(unet, tinyTextEncoder(m), letterTokenizer(),
                    NoiseSchedule.of(ScheduleConfig.defaults()), PredictionType.EPSILON);
            TrainingConfig cfg = TrainingConfig.parse("t", "{\"trainer\": {\"max_train_steps\": 100,"
                    + "\"train_batch_size\": 8, \"learning_rate\": 3e-3, \"lr_warmup_steps\": 5,"
                    + "\"checkpointing_steps\": 1000, \"use_ema\": false, \"log_every\": 1000}}");
            LatentBatchSource batches = UfoGenTrainingTest.tinyData(8, 0.1);
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            try (Trainer<LatentBatch> t = Trainer.builder(unet, loss, batches, cfg, dir).shutdownHook(false)
                    .progress(new PrintStream(log), false).build()) {
                t.run(false);
            }
            List<String> rows = Files.readAllLines(dir.resolve("train_log.csv"));
            double first = meanLoss(rows.subList(1, 21));
            double last = meanLoss(rows.subList(rows.size() - 20, rows.size()));
            System.out.printf("denoising loss: first 20 steps %.4f, last 20 steps %.4f%n", first, last);
            assertNotEquals(first, last);
            assertTrue(last < 0.5 * first, "loss should at least halve: " + first + " -> " + last);
        }
    }

    private static double meanLoss(List<String> rows) {
        return rows.stream().mapToDouble(r -> Double.parseDouble(r.split(",")[1])).average().orElseThrow();
    }
}
