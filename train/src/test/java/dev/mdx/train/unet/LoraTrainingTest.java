package dev.mdx.train.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.StateDicts;
import dev.mdx.lora.BoundLora;
import dev.mdx.lora.LoraFile;
import dev.mdx.lora.LoraPart;
import dev.mdx.lora.LoraSpec;
import dev.mdx.lora.LoraTargets;
import dev.mdx.pipeline.GenerationPlan;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.schedule.PredictionType;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.testing.TestModels;
import dev.mdx.train.Trainer;
import dev.mdx.train.TrainingConfig;
import dev.mdx.train.classifier.ShapesDataset;
import dev.mdx.unet.UNet2DConditionModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mdx train lora}: on a tiny problem the loss falls while only the LoRA's weights change (the base's are the
 * same arrays with the same bits afterwards); end to end, the run resumes and exports a kohya file that the
 * pipeline loads completely.
 */
class LoraTrainingTest {
    @TempDir
    Path dir;

    @Test
    void theLossFallsAndTheBaseWeightsStayBitIdentical() {
        lossFallsAndBaseStaysBitIdentical(NoiseEmphasis.NONE);
    }

    @Test
    void withHighNoiseEmphasisTheWeightedLossFallsToo() {
        // half the timesteps from [700, 1000), examples weighted by their x0 factor up to 10
        lossFallsAndBaseStaysBitIdentical(new NoiseEmphasis(0.5, 700, 10));
    }

    private void lossFallsAndBaseStaysBitIdentical(NoiseEmphasis emphasis) {
        try (NDManager m = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(DiffusionTrainingTest.tinyUnet());
            StateDicts.initRandom(unet, m, 1);
            Map<String, NDArray> arrays = new LinkedHashMap<>();
            Map<String, float[]> bits = new LinkedHashMap<>();
            unet.namedParameters().forEach((k, p) -> {
                arrays.put(k, p.get());
                bits.put(k, p.get().toFloatArray());
            });
            LoraTargets targets = LoraTargets.of(LoraPart.UNET, unet);
            LoraNetwork network = new LoraNetwork(targets, LoraTraining.select(targets,
                    List.of("to_q", "to_k", "to_v", "to_out.0", "ff.net.0.proj", "ff.net.2", "conv_out"), List.of(),
                    null), 4, 4);
            network.initialize(m, 3);
            DiffusionLoss diffusion = new DiffusionLoss(unet, DiffusionTrainingTest.tinyTextEncoder(m),
                    DiffusionTrainingTest.letterTokenizer(), NoiseSchedule.of(ScheduleConfig.defaults()),
                    PredictionType.EPSILON);
            TrainingConfig cfg = TrainingConfig.parse("t", "{\"trainer\": {\"max_train_steps\": 80,"
                    + "\"train_batch_size\": 8, \"learning_rate\": 1e-2, \"lr_warmup_steps\": 5,"
                    + "\"checkpointing_steps\": 1000, \"use_ema\": false, \"log_every\": 1000}}");
            try (Trainer<LatentBatch> t = Trainer.builder(network, (b, ctx) -> LoraTraining.loss(network, unet,
                    diffusion, emphasis, b, ctx), UfoGenTrainingTest.tinyData(8, 0.1), cfg, dir).shutdownHook(false)
                    .progress(new PrintStream(new ByteArrayOutputStream()), false).build()) {
                t.run(false);
                assertTrue(t.trainable().keySet().stream().allMatch(k -> k.startsWith("lora_unet_")
                        && (k.endsWith(".lora_down.weight") || k.endsWith(".lora_up.weight"))), "only LoRA weights");
            }
            List<String> rows = readRows(dir.resolve("train_log.csv"));
            double first = meanLoss(rows.subList(1, 16));
            double last = meanLoss(rows.subList(rows.size() - 15, rows.size()));
            System.out.printf("LoRA denoising loss: first 15 steps %.4f, last 15 steps %.4f%n", first, last);
            assertTrue(last < 0.8 * first, "the loss should fall by a fifth or more: " + first + " -> " + last);
            unet.namedParameters().forEach((k, p) -> {
                assertSame(arrays.get(k), p.get(), k + " is the same array");
                assertTrue(Arrays.equals(bits.get(k), p.get().toFloatArray()), k + " has the same bits");
            });
        }
    }

    @Test
    void aRunResumesAndExportsAKohyaFileThePipelineApplies() throws Exception {
        int threads = EngineThreads.current();
        EngineThreads.set(1);
        try {
            Path base = TestModels.microPipeline(dir.resolve("base"));
            Path data = ShapesDataset.write(dir.resolve("shapes"), 3, 2, 1, 5);
            Path config = dir.resolve("lora.json");
            Files.writeString(config, """
                    {"trainer": {"max_train_steps": 2, "train_batch_size": 3, "learning_rate": 1e-3,
                                 "checkpointing_steps": 1000, "use_ema": false, "log_every": 1000},
                     "base": "base", "data": {"dataset": "shapes", "split": "train"}, "lora": {"rank": 2}}""");
            Path out = dir.resolve("run");
            Trainer.Result stopped = LoraTraining.run(config, out, false, quiet());
            assertEquals(2, stopped.step());
            Files.writeString(config, Files.readString(config).replace("\"max_train_steps\": 2",
                    "\"max_train_steps\": 3"));
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            Trainer.Result resumed = LoraTraining.run(config, out, true, new PrintStream(log, true,
                    StandardCharsets.UTF_8));
            assertEquals(3, resumed.step());
            String printed = log.toString(StandardCharsets.UTF_8);
            assertTrue(printed.contains("resumed from") && printed.contains("at step 2"), printed);
            assertTrue(printed.contains("LoRA rank 2, alpha 2.0 on "), printed);

            Path file = out.resolve(LoraTraining.EXPORT_FILE);
            assertTrue(Files.size(file) < 100_000, "a LoRA-sized file: " + Files.size(file));
            LoraFile lora = LoraFile.read(file);
            assertEquals("2", lora.metadata().get("ss_network_dim"));
            assertTrue(lora.layers().stream().allMatch(l -> l.format() == LoraFile.Format.KOHYA && l.rank() == 2
                    && l.alpha() == 2f), "kohya layers of rank 2, alpha 2");
            try (TextToImagePipeline pipeline = TextToImagePipeline.builder(base).loadWeightsNow(false).build()) {
                GenerationPlan plan = pipeline.plan(pipeline.newRequest().prompt("a square").steps(1)
                        .lora(new LoraSpec(file, 1)).build());
                BoundLora bound = plan.loras().entries().get(0).lora();
                assertTrue(bound.complete(), () -> bound.describeProblems(""));
                assertTrue(bound.deltas().stream().anyMatch(d -> d.weightKey().endsWith("attn2.to_k.weight")));
                assertEquals(1, pipeline.generate(plan, dev.mdx.pipeline.StepCallback.NONE, null).images().size());
            }
        } finally {
            EngineThreads.set(threads);
        }
    }

    @Test
    void aSubsetOfTheDataWithRewrittenCaptions() throws Exception {
        Path data = ShapesDataset.write(dir.resolve("shapes"), 1, 3, 1, 5);
        dev.mdx.train.data.ImageDataset set = dev.mdx.train.data.ImageDataset.open(data);
        JsonConfig section = JsonConfig.parse("data", "{\"labels\": [\"square\"],"
                + " \"caption_replace\": {\"\\\\bsquare\\\\b\": \"zq block\", \"^a \": \"\"}}");
        DataSelection selection = DataSelection.of(section);
        int[] kept = selection.filter(set, set.indices("train"), "data");
        assertEquals(3, kept.length, "three squares of nine");
        for (int i : kept) {
            assertEquals("square", set.item(i).label());
            assertEquals(List.of("zq block"), selection.captions(List.of(set.item(i).caption())));
        }
        DataSelection none = DataSelection.of(JsonConfig.parse("data", "{\"labels\": [\"circle\"]}"));
        dev.mdx.io.ModelFormatException e = org.junit.jupiter.api.Assertions.assertThrows(
                dev.mdx.io.ModelFormatException.class, () -> none.filter(set, set.indices("train"), "cfg"));
        assertTrue(e.getMessage().contains("no item of") && e.getMessage().contains("[circle]"), e.getMessage());
    }

    @Test
    void flagsBecomeAConfigWithAbsolutePaths() throws Exception {
        Path written = LoraTraining.writeConfig(null, dir.resolve("model"), dir.resolve("data"), 8, dir.resolve("o"));
        String json = Files.readString(written);
        assertTrue(json.contains("\"base\" : \"" + dir.resolve("model").toAbsolutePath()), json);
        assertTrue(json.contains("\"dataset\" : \"" + dir.resolve("data").toAbsolutePath()), json);
        assertTrue(json.contains("\"rank\" : 8"), json);
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    private static List<String> readRows(Path csv) {
        try {
            return Files.readAllLines(csv);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static double meanLoss(List<String> rows) {
        return rows.stream().mapToDouble(r -> Double.parseDouble(r.split(",")[1])).average().orElseThrow();
    }
}
