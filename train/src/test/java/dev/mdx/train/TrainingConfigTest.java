package dev.mdx.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.io.ModelFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingConfigTest {
    @TempDir
    Path tmp;

    @Test
    void readsEveryFieldAndKeepsTheWholeDocument() throws Exception {
        Path file = tmp.resolve("train.json");
        Files.writeString(file, """
                {"trainer": {"max_train_steps": 1000, "train_batch_size": 4, "learning_rate": 3e-4,
                  "lr_warmup_steps": 50, "lr_min": 1e-5, "adam_beta1": 0.8, "adam_beta2": 0.99,
                  "adam_epsilon": 1e-6, "adam_weight_decay": 0.05, "max_grad_norm": 2.0, "use_ema": false,
                  "ema_decay": 0.999, "ema_min_decay": 0.1, "ema_update_after_step": 10, "ema_use_warmup": true,
                  "ema_inv_gamma": 2.0, "ema_power": 0.75, "seed": 9007199254740993, "checkpointing_steps": 100,
                  "checkpoints_total_limit": 5, "sample_every": 250, "log_every": 20},
                 "data": {"folder": "x"}}
                """);
        TrainingConfig c = TrainingConfig.read(file);
        assertEquals(1000, c.maxTrainSteps());
        assertEquals(4, c.trainBatchSize());
        assertEquals(new LrSchedule(3e-4, 50, 1000, 1e-5), c.schedule());
        assertEquals(new AdamW.Settings(0.8, 0.99, 1e-6, 0.05), c.adamW());
        assertEquals(2.0, c.maxGradNorm());
        assertFalse(c.useEma());
        assertEquals(new Ema.Settings(0.999, 0.1, 10, true, 2.0, 0.75), c.ema());
        assertEquals(9007199254740993L, c.seed(), "seeds beyond 2^53 are kept exactly");
        assertEquals(100, c.checkpointingSteps());
        assertEquals(5, c.checkpointsTotalLimit());
        assertEquals(250, c.sampleEvery());
        assertEquals(20, c.logEvery());
        assertEquals("x", c.document().get("data").get("folder").asText());
    }

    @Test
    void defaultsFollowDiffusersTrainingScripts() {
        TrainingConfig c = TrainingConfig.parse("t.json", "{\"trainer\": {\"max_train_steps\": 10}}");
        assertEquals(1e-4, c.learningRate());
        assertEquals(new AdamW.Settings(0.9, 0.999, 1e-8, 1e-2), c.adamW());
        assertEquals(1.0, c.maxGradNorm());
        assertTrue(c.useEma());
        assertEquals(new Ema.Settings(0.9999, 0.0, 0, false, 1.0, 2.0 / 3.0), c.ema());
        assertEquals(500, c.checkpointingSteps());
        assertEquals(3, c.checkpointsTotalLimit());
    }

    private static String error(String trainerJson) {
        return assertThrows(ModelFormatException.class,
                () -> TrainingConfig.parse("t.json", "{\"trainer\": " + trainerJson + "}")).getMessage();
    }

    @Test
    void errorsNameTheFileAndTheBadField() {
        assertEquals("t.json: section 'trainer': field 'max_train_steps' is missing", error("{}"));
        assertEquals("t.json: section 'trainer': field 'learning_rate' must be > 0, got -1.0",
                error("{\"max_train_steps\": 5, \"learning_rate\": -1}"));
        assertEquals("t.json: section 'trainer': field 'max_train_steps' must be an integer, got \"many\"",
                error("{\"max_train_steps\": \"many\"}"));
        assertEquals("t.json: section 'trainer': field 'adam_beta2' must be in [0, 1), got 1.0",
                error("{\"max_train_steps\": 5, \"adam_beta2\": 1.0}"));
        assertEquals("t.json: section 'trainer': field 'lr_min' must be between 0 and learning_rate (1.0E-4), got"
                + " 0.5", error("{\"max_train_steps\": 5, \"lr_min\": 0.5}"));
        assertEquals("t.json: section 'trainer': field 'use_ema' must be true or false, got 1",
                error("{\"max_train_steps\": 5, \"use_ema\": 1}"));
        assertEquals("t.json: section 'trainer': field 'seed' must be an integer, got 1.5",
                error("{\"max_train_steps\": 5, \"seed\": 1.5}"));
        assertEquals("t.json: section 'trainer': field 'checkpoints_total_limit' must be > 0, got 0",
                error("{\"max_train_steps\": 5, \"checkpoints_total_limit\": 0}"));
        String unknown = error("{\"max_train_steps\": 5, \"learning_rat\": 0.1}");
        assertTrue(unknown.startsWith("t.json: section 'trainer': unknown field learning_rat (known: "), unknown);
        assertEquals("t.json: field 'trainer' is missing (an object holding the trainer settings)",
                assertThrows(ModelFormatException.class, () -> TrainingConfig.parse("t.json", "{}")).getMessage());
    }
}
