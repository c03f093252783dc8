package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.tensor.EngineThreads;
import dev.mdx.testing.TestModels;
import dev.mdx.train.classifier.ShapesDataset;
import dev.mdx.train.unet.LoraTraining;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mdx train lora}: --base, --data and --rank instead of (or over) a config file. */
class TrainLoraCommandTest {
    @TempDir
    Path dir;

    @Test
    void loraFlagsBelongToStageLoraAndNeedBaseAndData() {
        CliRun other = CliRun.mdx("train", "unet", "--base", "emoji", "-o", dir.toString());
        assertEquals(ExitCodes.USAGE, other.code());
        assertTrue(other.err().contains("--base and --data are for stages lora and adapter"), other.err());
        CliRun adapter = CliRun.mdx("train", "adapter", "-o", dir.toString());
        assertEquals(ExitCodes.USAGE, adapter.code());
        assertTrue(adapter.err().contains("(or --base MODEL --data DIR --condition canny|mask)"), adapter.err());
        CliRun crossed = CliRun.mdx("train", "lora", "--base", "emoji", "--condition", "canny", "-o", dir.toString());
        assertEquals(ExitCodes.USAGE, crossed.code());
        assertTrue(crossed.err().contains("--condition for stage adapter"), crossed.err());
        CliRun none = CliRun.mdx("train", "lora", "-o", dir.toString());
        assertEquals(ExitCodes.USAGE, none.code());
        assertTrue(none.err().contains("(or --base MODEL --data DIR [--rank R])"), none.err());
        CliRun half = CliRun.mdx("train", "lora", "--base", "emoji", "-o", dir.toString());
        assertEquals(ExitCodes.USAGE, half.code());
        assertTrue(half.err().contains("needs both --base MODEL and --data DIR"), half.err());
    }

    @Test
    void flagsOverAConfigTrainAndExport() throws Exception {
        int threads = EngineThreads.current();
        try {
            Path base = TestModels.microPipeline(dir.resolve("base"));
            Path data = ShapesDataset.write(dir.resolve("shapes"), 3, 2, 1, 5);
            Path config = dir.resolve("short.json");
            Files.writeString(config, "{\"trainer\": {\"max_train_steps\": 1, \"train_batch_size\": 2,"
                    + " \"use_ema\": false}, \"lora\": {\"targets\": [\"to_q\", \"to_out.0\"]}}");
            Path out = dir.resolve("run");
            CliRun r = CliRun.mdx("train", "lora", "-c", config.toString(), "--base", base.toString(), "--data",
                    data.toString(), "--rank", "2", "-o", out.toString(), "-t", "1");
            assertEquals(0, r.code(), r.err());
            assertTrue(Files.isRegularFile(out.resolve(LoraTraining.EXPORT_FILE)));
            String written = Files.readString(out.resolve(LoraTraining.FLAGS_CONFIG_FILE));
            assertTrue(written.contains("\"rank\" : 2") && written.contains("\"to_out.0\""), written);
        } finally {
            EngineThreads.set(threads);
        }
    }
}
