package dev.mdx.train.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.io.ModelFormatException;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.testing.TestModels;
import dev.mdx.train.Trainer;
import dev.mdx.train.classifier.ShapesDataset;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mdx train ufogen} with a {@code teacher}: on the micro pipeline it trains and exports with the teacher's
 * samples as the one-step target, and a teacher that cannot serve fails before training with one message.
 */
class UfoGenTeacherConfigTest {
    @TempDir
    Path dir;

    private Path config(String ufogen) throws Exception {
        Path config = dir.resolve("ufogen.json");
        Files.writeString(config, """
                {"trainer": {"max_train_steps": 2, "train_batch_size": 3, "learning_rate": 1e-4,
                             "checkpointing_steps": 1000, "use_ema": true, "ema_decay": 0.9, "log_every": 1000},
                 "base": "base", "data": {"dataset": "shapes", "split": "train"},
                 "ufogen": %s}""".formatted(ufogen));
        return config;
    }

    private static String run(Path config, Path out) {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Trainer.Result result = UfoGenTraining.run(config, out, false, new PrintStream(log, true,
                StandardCharsets.UTF_8));
        assertEquals(2, result.step());
        return log.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aTeacherTrainsAndExportsAndAMisfitTeacherIsRefused() throws Exception {
        int threads = EngineThreads.current();
        EngineThreads.set(1);
        try {
            Path base = TestModels.microPipeline(dir.resolve("base"));
            ShapesDataset.write(dir.resolve("shapes"), 3, 2, 1, 5);
            String printed = run(config("""
                    {"one_step_fraction": 0.5, "teacher": "base", "teacher_steps": 2, "teacher_guidance_scale": 3}"""),
                    dir.resolve("run"));
            assertTrue(printed.contains("one-step examples regress to the 2-step samples of"), printed);
            assertTrue(Files.isRegularFile(dir.resolve("run/pipeline/unet/diffusion_pytorch_model.safetensors")),
                    "exported");

            ModelFormatException noOneStep = assertThrows(ModelFormatException.class, () -> run(config(
                    "{\"teacher\": \"base\"}"), dir.resolve("r2")));
            assertTrue(noOneStep.getMessage().contains("needs one_step_fraction > 0"), noOneStep.getMessage());

            ModelFormatException stray = assertThrows(ModelFormatException.class, () -> run(config(
                    "{\"teacher_steps\": 4}"), dir.resolve("r3")));
            assertTrue(stray.getMessage().contains("teacher_steps") && stray.getMessage().contains("only with a"
                    + " teacher"), stray.getMessage());

            // a teacher whose text encoder differs in one byte reads other text features
            Path other = TestModels.microPipeline(dir.resolve("other"));
            Path weights = other.resolve("text_encoder/model.safetensors");
            byte[] bytes = Files.readAllBytes(weights);
            bytes[bytes.length - 1] ^= 1;
            Files.write(weights, bytes);
            ModelFormatException misfit = assertThrows(ModelFormatException.class, () -> run(config(
                    "{\"one_step_fraction\": 0.5, \"teacher\": \"other\"}"), dir.resolve("r4")));
            assertTrue(misfit.getMessage().contains("another text encoder than the base"), misfit.getMessage());
        } finally {
            EngineThreads.set(threads);
        }
    }
}
