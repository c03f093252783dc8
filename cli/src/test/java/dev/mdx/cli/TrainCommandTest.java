package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
    @TempDir
    Path dir;

    private int run(StringWriter err, String... args) {
        return Main.run(args, new PrintWriter(new StringWriter()), new PrintWriter(err));
    }

    @Test
    void unknownStageNamesTheStages() {
        StringWriter err = new StringWriter();
        assertEquals(ExitCodes.USAGE, run(err, "train", "gan", "--config", "x.json", "--out", dir.toString()));
        assertTrue(err.toString().contains("unknown stage 'gan'; stages: clip, vae, unet"), err.toString());
    }

    @Test
    void missingConfigIsAUsageError() {
        StringWriter err = new StringWriter();
        assertEquals(ExitCodes.USAGE, run(err, "train", "unet", "--config", dir.resolve("no.json").toString(),
                "--out", dir.toString()));
        assertTrue(err.toString().contains("not found"), err.toString());
    }

    @Test
    void badConfigValueIsOneLineNamingTheField() throws Exception {
        Path cfg = dir.resolve("bad.json");
        Files.writeString(cfg, "{\"trainer\": {\"max_train_steps\": 10, \"learning_rate\": -1}}");
        StringWriter err = new StringWriter();
        assertEquals(ExitCodes.FAILURE, run(err, "train", "unet", "--config", cfg.toString(), "--out",
                dir.resolve("out").toString()));
        assertTrue(err.toString().contains("learning_rate"), err.toString());
        assertFalse(err.toString().contains("\tat "), "no stack trace: " + err);
    }

    @Test
    void misspelledConfigKeyIsNamed() throws Exception {
        Path bad = dir.resolve("typo.json");
        Files.writeString(bad, "{\"stage\": \"vae\", \"trainer\": {\"max_train_steps\": 1}, \"vae\": {},"
                + " \"data\": {\"dataset\": \"d\"}, \"loss\": {\"kl_weigth\": 1e-6}}");
        StringWriter err = new StringWriter();
        assertEquals(ExitCodes.FAILURE, run(err, "train", "vae", "-c", bad.toString(), "-o", dir.resolve("o").toString()));
        assertTrue(err.toString().contains("kl_weigth"), err.toString());
        assertFalse(err.toString().contains("\tat "), "no stack trace: " + err);
    }

    @Test
    void exportCheckpointIsForStageUnetWithAStepAndNamesAMissingRun() throws Exception {
        Path cfg = dir.resolve("unet.json");
        Files.writeString(cfg, """
                {"trainer": {"max_train_steps": 10}, "unet": "u.json", "text_encoder": "t", "tokenizer": "t",
                 "vae": "v", "data": {"dataset": "d"}}""");
        StringWriter err = new StringWriter();
        assertEquals(ExitCodes.USAGE, run(err, "train", "clip", "-c", cfg.toString(), "-o", dir.toString(),
                "--export-checkpoint", "latest"));
        assertTrue(err.toString().contains("--export-checkpoint is for stage unet"), err.toString());
        err = new StringWriter();
        assertEquals(ExitCodes.USAGE, run(err, "train", "unet", "-c", cfg.toString(), "-o", dir.toString(),
                "--export-checkpoint", "last"));
        assertTrue(err.toString().contains("expected a step number or 'latest', got 'last'"), err.toString());
        err = new StringWriter();
        assertEquals(ExitCodes.FAILURE, run(err, "train", "unet", "-c", cfg.toString(), "-o",
                dir.resolve("run").toString(), "--export-checkpoint", "latest"));
        assertTrue(err.toString().contains("has no checkpoints"), err.toString());
        assertFalse(err.toString().contains("\tat "), "no stack trace: " + err);
    }
}
