package dev.mdx.train.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelIndex;
import dev.mdx.pipeline.GenerationResult;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.testing.TestModels;
import dev.mdx.train.Trainer;
import dev.mdx.train.classifier.ShapesDataset;
import dev.mdx.unet.UNetConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mdx train distill} with {@code w_conditioned} end to end on the micro pipeline and the shapes data set: the
 * exported folder holds a UNet with time_cond_proj_dim and says so in model_index.json, and it loads and generates
 * with one UNet pass per step.
 */
class DistillExportTest {
    @TempDir
    Path dir;

    @Test
    void aWConditionedStudentExportsAPipelineThatLoadsAndGenerates() throws Exception {
        int threads = EngineThreads.current();
        EngineThreads.set(1);
        try {
            Path teacher = TestModels.microPipeline(dir.resolve("teacher"));
            Path data = ShapesDataset.write(dir.resolve("shapes"), 3, 2, 1, 5);
            Path config = dir.resolve("distill.json");
            Files.writeString(config, """
                    {"trainer": {"max_train_steps": 3, "train_batch_size": 3, "learning_rate": 1e-4,
                                 "checkpointing_steps": 1000, "use_ema": true, "ema_decay": 0.9, "log_every": 1000},
                     "teacher": "teacher", "data": {"dataset": "shapes", "split": "train"},
                     "distill": {"w_conditioned": true, "guidance_embedding_dim": 16, "student_steps": 2,
                                 "guidance_min": 2, "guidance_max": 6}}""");
            Path out = dir.resolve("run");
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            Trainer.Result result = DistillTraining.run(config, out, false, new PrintStream(log, true,
                    StandardCharsets.UTF_8));
            assertEquals(3, result.step());
            String printed = log.toString(StandardCharsets.UTF_8);
            assertTrue(printed.contains("w-conditioned: the student reads a 16-wide embedding of w - 1"), printed);

            Path pipelineDir = out.resolve("pipeline");
            JsonNode index = JsonConfig.read(pipelineDir.resolve("model_index.json")).root();
            assertFalse(index.get(ModelIndex.NEEDS_CFG_KEY).asBoolean(), "no CFG pair: " + index);
            assertEquals(2, index.get(ModelIndex.STUDENT_STEPS_KEY).asInt());
            assertEquals(2.0, index.get(ModelIndex.GUIDANCE_RANGE_KEY).get(0).asDouble());
            assertEquals(6.0, index.get(ModelIndex.GUIDANCE_RANGE_KEY).get(1).asDouble());
            assertEquals(16, UNetConfig.read(pipelineDir.resolve("unet/config.json")).timeCondProjDim());

            try (TextToImagePipeline pipeline = TextToImagePipeline.load(pipelineDir)) {
                assertTrue(pipeline.config().notes().stream().anyMatch(n -> n.contains("takes the guidance scale as"
                        + " an input (distilled for CFG scales 2 to 6)")), pipeline.config().notes().toString());
                assertEquals(2, pipeline.defaults().steps(), "the student's step count is the default");
                GenerationResult g = pipeline.generate(pipeline.newRequest().prompt("a square").cfgScale(4).seed(1)
                        .build());
                assertEquals(1, g.images().size());
                assertEquals(TestModels.MICRO_SIZE, g.images().get(0).width());
                assertEquals(2, g.timings().unetStepMs().size(), "one UNet call per step");
            }
        } finally {
            EngineThreads.set(threads);
        }
    }
}
