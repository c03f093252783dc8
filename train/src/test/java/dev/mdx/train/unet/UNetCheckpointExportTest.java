package dev.mdx.train.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.io.ModelFormatException;
import dev.mdx.io.StateDictMismatchException;
import dev.mdx.pipeline.GenerationResult;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.testing.TestModels;
import dev.mdx.train.classifier.ShapesDataset;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mdx train unet --export-checkpoint}: a checkpoint's pipeline is what the run itself would export at that
 * step, so an unfinished run is measured on the model it would ship.
 */
class UNetCheckpointExportTest {
    private static final Path UNET_WEIGHTS = Path.of("unet", "diffusion_pytorch_model.safetensors");

    @TempDir
    Path dir;
    private int threads;
    private final PrintStream log = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    @BeforeEach
    void oneThread() {
        threads = EngineThreads.current();
        EngineThreads.set(1);
    }

    @AfterEach
    void restoreThreads() {
        EngineThreads.set(threads);
    }

    @BeforeEach
    void microPipelineAndShapes() {
        TestModels.microPipeline(dir.resolve("micro"));
        ShapesDataset.write(dir.resolve("shapes"), 3, 2, 1, 5);
    }

    private Path config(String unetConfig) throws Exception {
        Path config = dir.resolve(unetConfig.replace('/', '-') + ".run.json");
        Files.writeString(config, """
                {"trainer": {"max_train_steps": 4, "train_batch_size": 3, "learning_rate": 1e-3,
                             "checkpointing_steps": 2, "checkpoints_total_limit": 3, "use_ema": true,
                             "ema_decay": 0.5, "log_every": 1000},
                 "unet": "%s", "text_encoder": "micro/text_encoder", "tokenizer": "micro/tokenizer",
                 "vae": "micro/vae", "prediction_type": "v_prediction",
                 "data": {"dataset": "shapes", "split": "train"}}""".formatted(unetConfig));
        return config;
    }

    @Test
    void theLastCheckpointExportsTheRunsOwnPipelineAndAnEarlierOneGenerates() throws Exception {
        Path config = config("micro/unet/config.json");
        Path run = dir.resolve("run");
        // a file an older export left behind: the new export replaces the whole folder
        Path stale = run.resolve("pipeline").resolve("unet").resolve("stale.safetensors");
        Files.createDirectories(stale.getParent());
        Files.writeString(stale, "old");
        UNetTraining.run(config, run, false, log);
        assertFalse(Files.exists(stale), "the run's export replaced the older pipeline folder");

        Path last = UNetTraining.exportCheckpoint(config, run, -1, log);
        assertEquals(run.resolve("pipeline-step-4"), last);
        Path own = run.resolve("pipeline");
        for (Path file : new Path[] {UNET_WEIGHTS, Path.of("unet", "config.json"),
                Path.of("scheduler", "scheduler_config.json"), Path.of("text_encoder", "model.safetensors"),
                Path.of("vae", "config.json")}) {
            assertArrayEquals(Files.readAllBytes(own.resolve(file)), Files.readAllBytes(last.resolve(file)),
                    file + " differs from the run's own export");
        }
        assertTrue(Files.readString(last.resolve("model_index.json")).contains("from step 4 (EMA weights)"));

        Path early = UNetTraining.exportCheckpoint(config, run, 2, log);
        assertFalse(Arrays.equals(Files.readAllBytes(own.resolve(UNET_WEIGHTS)),
                Files.readAllBytes(early.resolve(UNET_WEIGHTS))), "step 2 has its own weights");
        try (TextToImagePipeline pipeline = TextToImagePipeline.load(early)) {
            GenerationResult g = pipeline.generate(pipeline.newRequest().prompt("a square").steps(2).seed(1).build());
            assertEquals(TestModels.MICRO_SIZE, g.images().get(0).width());
        }
        // a second export of the same step replaces the first and leaves no temporary folder behind
        UNetTraining.exportCheckpoint(config, run, 2, log);
        try (var files = Files.list(run)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith(".")), "no leftovers in " + run);
        }
    }

    @Test
    void aMissingStepOrRunOrAnotherUNetIsRefusedWithWhatThereIs() throws Exception {
        Path config = config("micro/unet/config.json");
        ModelFormatException none = assertThrows(ModelFormatException.class,
                () -> UNetTraining.exportCheckpoint(config, dir.resolve("nothing"), -1, log));
        assertTrue(none.getMessage().contains("has no checkpoints"), none.getMessage());

        Path run = dir.resolve("run");
        UNetTraining.run(config, run, false, log);
        ModelFormatException missing = assertThrows(ModelFormatException.class,
                () -> UNetTraining.exportCheckpoint(config, run, 3, log));
        assertTrue(missing.getMessage().contains("no checkpoint of step 3; it has steps [2, 4]"), missing.getMessage());

        writeWiderUNetConfig(dir.resolve("micro/unet/config.json"), dir.resolve("wider.json"));
        assertThrows(StateDictMismatchException.class,
                () -> UNetTraining.exportCheckpoint(config("wider.json"), run, 4, log));
        assertFalse(Files.exists(run.resolve("pipeline-step-4")), "nothing written for a refused checkpoint");
    }

    /** A copy of a UNet config whose first block is 10x wider: a UNet no checkpoint of the original fits. */
    static void writeWiderUNetConfig(Path config, Path wider) throws Exception {
        Files.writeString(wider, Files.readString(config).replaceFirst(
                "(\"block_out_channels\"\\s*:\\s*\\[\\s*)(\\d+)", "$1$20"));
    }
}
