package dev.mdx.train.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.mdx.control.AdapterConfig;
import dev.mdx.control.ConditionType;
import dev.mdx.control.ControlAdapter;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Parameter;
import dev.mdx.pipeline.GenerationPlan;
import dev.mdx.pipeline.GrayImage;
import dev.mdx.pipeline.ImageControl;
import dev.mdx.pipeline.InvalidRequestException;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.schedule.PredictionType;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.testing.TestModels;
import dev.mdx.train.DataPosition;
import dev.mdx.train.Rng;
import dev.mdx.train.StepContext;
import dev.mdx.train.Trainer;
import dev.mdx.train.TrainingConfig;
import dev.mdx.train.classifier.ShapesDataset;
import dev.mdx.unet.UNet2DConditionModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mdx train adapter}: on a tiny problem whose latents depend only on the condition map (captions are empty;
 * v-prediction at mostly noisy timesteps, where the target is close to -x0, so the map is what lowers the loss),
 * the loss falls while the frozen UNet keeps its bits and gets no gradient; end to end, a run resumes, exports an
 * fp16 adapter that the pipeline runs, and an adapter made for another UNet is refused with one message.
 */
class AdapterTrainingTest {
    private static final int FACTOR = 2;

    @TempDir
    Path dir;

    /** 8 examples: the map is white on the left or right half; the latents are +1 there and -1 elsewhere. */
    private static ConditionedBatchSource halves(int batch) {
        int n = 8;
        Shape shape = new Shape(4, 8, 8);
        float[] latents = new float[(int) (n * shape.size())];
        byte[] maps = new byte[n * 16 * 16];
        List<List<String>> captions = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean left = i % 2 == 0;
            for (int c = 0; c < 4; c++) {
                for (int y = 0; y < 8; y++) {
                    for (int x = 0; x < 8; x++) {
                        latents[(int) (i * shape.size() + (c * 8 + y) * 8 + x)] = (x < 4) == left ? 1f : -1f;
                    }
                }
            }
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 16; x++) {
                    maps[i * 256 + y * 16 + x] = (byte) ((x < 8) == left ? 255 : 0);
                }
            }
            captions.add(List.of(""));
        }
        return new ConditionedBatchSource(new LatentBatchSource(latents, shape, captions, batch, 0, 2), maps, 16, 16);
    }

    @Test
    void theLossFallsAndOnlyTheAdapterLearns() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(DiffusionTrainingTest.tinyUnet());
            StateDicts.initRandom(unet, m, 1);
            FrozenWeights frozen = FrozenWeights.of(unet);
            ControlAdapter adapter = new ControlAdapter(AdapterConfig.forUnet(unet.config(), FACTOR,
                    ConditionType.MASK));
            adapter.initialize(m, 3);
            DiffusionLoss diffusion = new DiffusionLoss(unet, DiffusionTrainingTest.tinyTextEncoder(m),
                    DiffusionTrainingTest.letterTokenizer(), NoiseSchedule.of(ScheduleConfig.defaults()),
                    PredictionType.V_PREDICTION);
            ConditionedBatchSource data = halves(8);
            // one step by hand: gradients reach every adapter parameter and no UNet parameter
            try (NDManager scope = m.newSubManager()) {
                adapter.namedParameters().values().forEach(p -> p.get().setRequiresGradient(true));
                ConditionedBatch b = data.next(scope, new DataPosition(0, 0), new Rng(1)).batch();
                try (GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                    gc.backward(AdapterTraining.loss(adapter, diffusion, b, new StepContext(0, scope, new Rng(2),
                            1e-3), false));
                }
                for (Map.Entry<String, Parameter> e : adapter.namedParameters().entrySet()) {
                    // the zero output convolutions get a gradient at once; the layers before them only once those
                    // are non-zero, so only the outputs are checked for a non-zero value
                    assertTrue(e.getValue().get().hasGradient(), e.getKey() + " has a gradient");
                    if (e.getKey().contains(".out.weight")) {
                        assertTrue(e.getValue().get().getGradient().abs().sum().getFloat() > 0, e.getKey());
                    }
                }
                unet.namedParameters().forEach((k, p) -> assertFalse(p.get().hasGradient(), k + " has no gradient"));
                adapter.namedParameters().values().forEach(p -> p.get().setRequiresGradient(false));
            }
            TrainingConfig cfg = TrainingConfig.parse("t", "{\"trainer\": {\"max_train_steps\": 150,"
                    + "\"train_batch_size\": 8, \"learning_rate\": 1e-2, \"lr_warmup_steps\": 5,"
                    + "\"checkpointing_steps\": 1000, \"use_ema\": false, \"log_every\": 1000}}");
            try (Trainer<ConditionedBatch> t = Trainer.builder(adapter, (ConditionedBatch b, StepContext ctx) ->
                    AdapterTraining.loss(adapter, diffusion, b, ctx, true), data, cfg, dir).shutdownHook(false)
                    .progress(new PrintStream(new ByteArrayOutputStream()), false).build()) {
                t.run(false);
                assertEquals(adapter.namedParameters().keySet(), t.trainable().keySet(), "only the adapter trains");
            }
            double[] loss = FrozenWeights.firstAndLastLoss(dir, 20);
            double first = loss[0];
            double last = loss[1];
            System.out.printf("adapter denoising loss: first 20 steps %.4f, last 20 steps %.4f%n", first, last);
            assertTrue(last < 0.9 * first, "the loss should fall by a tenth or more: " + first + " -> " + last);
            // the adapter reads the map: with every map inverted (left and right swapped) the same batches and noise
            // give a higher loss
            double right = 0;
            double swapped = 0;
            for (int k = 0; k < 8; k++) {
                try (NDManager scope = m.newSubManager()) {
                    ConditionedBatch b = data.next(scope, new DataPosition(0, 0), new Rng(k)).batch();
                    ConditionedBatch inverted = new ConditionedBatch(b.latents(), b.conditions().neg().add(1f));
                    right += AdapterTraining.loss(adapter, diffusion, b, new StepContext(0, scope, new Rng(100 + k),
                            0), true).getFloat();
                    swapped += AdapterTraining.loss(adapter, diffusion, inverted, new StepContext(0, scope,
                            new Rng(100 + k), 0), true).getFloat();
                }
            }
            System.out.printf("loss with the right maps %.4f, with swapped maps %.4f%n", right / 8, swapped / 8);
            assertTrue(right < 0.95 * swapped, "the right maps should give a lower loss: " + right + " vs " + swapped);
            frozen.assertUnchanged();
        }
    }

    @Test
    void aRunResumesExportsAnAdapterThePipelineRunsAndAnotherUNetsAdapterIsRefused() throws Exception {
        int threads = EngineThreads.current();
        EngineThreads.set(1);
        try {
            Path base = TestModels.microPipeline(dir.resolve("base"));
            Path data = ShapesDataset.write(dir.resolve("shapes"), 3, 2, 1, 5);
            Path out = dir.resolve("run");
            Path config = AdapterTraining.writeConfig(null, base, data, ConditionType.CANNY, out);
            Files.writeString(config, Files.readString(config).replaceAll("\"max_train_steps\" : \\d+",
                    "\"max_train_steps\" : 2").replaceAll("\"train_batch_size\" : \\d+", "\"train_batch_size\" : 3"));
            assertEquals(2, AdapterTraining.run(config, out, false, quiet()).step());
            Files.writeString(config, Files.readString(config).replace("\"max_train_steps\" : 2",
                    "\"max_train_steps\" : 3"));
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            assertEquals(3, AdapterTraining.run(config, out, true, new PrintStream(log, true, StandardCharsets.UTF_8))
                    .step());
            String printed = log.toString(StandardCharsets.UTF_8);
            assertTrue(printed.contains("resumed from") && printed.contains("canny adapter"), printed);

            Path file = out.resolve(AdapterTraining.EXPORT_FILE);
            try (dev.mdx.io.SafeTensorsFile st = dev.mdx.io.SafeTensorsFile.open(file)) {
                assertTrue(st.tensors().values().stream().allMatch(i -> i.dtype() == dev.mdx.io.DType.F16), "fp16");
            }
            try (TextToImagePipeline pipeline = TextToImagePipeline.builder(base).loadWeightsNow(false).build()) {
                int w = pipeline.defaults().width();
                int h = pipeline.defaults().height();
                GrayImage map = GrayImage.filled(w, h, 0);
                GenerationPlan plan = pipeline.plan(pipeline.newRequest().prompt("a square").steps(2)
                        .control(ImageControl.map(map, null, 1.0).withAdapter(file)).build());
                assertTrue(plan.controlled() && plan.runsAlone());
                assertTrue(plan.notes().stream().anyMatch(n -> n.contains("canny adapter")), plan.notes().toString());
                // a ready map has no preprocessor; the PNG's infotext names the adapter and its weight
                assertTrue(plan.parameters().infotext(0).contains(
                        ", ControlNet 0: \"Module: none, Model: adapter, Weight: 1\""), plan.parameters().infotext(0));
                GenerationPlan extracted = pipeline.plan(pipeline.newRequest().prompt("a").control(ImageControl.extract(
                        new dev.mdx.pipeline.RgbImage(w, h, new byte[3 * w * h]), null, 2.5).withAdapter(file)).build());
                assertTrue(extracted.parameters().infotext(0).contains(
                        ", ControlNet 0: \"Module: canny, Model: adapter, Weight: 2.5\""),
                        extracted.parameters().infotext(0));
                assertEquals(1, pipeline.generate(plan, dev.mdx.pipeline.StepCallback.NONE, null).images().size());

                InvalidRequestException size = assertThrows(InvalidRequestException.class, () -> pipeline.plan(
                        pipeline.newRequest().prompt("a").control(ImageControl.map(GrayImage.filled(w + 4, h, 0),
                                null, 1.0).withAdapter(file)).build()));
                assertTrue(size.getMessage().contains("but the output is " + w + "x" + h), size.getMessage());

                // the same adapter shape for a UNet twice as wide
                AdapterConfig mine = ControlAdapter.readConfig(file);
                AdapterConfig wider = new AdapterConfig(mine.condition(), 1, mine.downscaleFactor(), mine.channels(),
                        mine.resBlocks(), mine.unetChannels().stream().map(c -> 2 * c).toList(), false);
                Path other = dir.resolve("other.safetensors");
                try (NDManager m = NDManager.newBaseManager()) {
                    ControlAdapter a = new ControlAdapter(wider);
                    a.initialize(m, 1);
                    Map<String, NDArray> values = new LinkedHashMap<>();
                    a.namedParameters().forEach((k, p) -> values.put(k, p.get()));
                    AdapterTraining.export(other, values, wider, base, 0);
                }
                InvalidRequestException unet = assertThrows(InvalidRequestException.class, () -> pipeline.plan(
                        pipeline.newRequest().prompt("a").control(ImageControl.map(map, null, 1.0).withAdapter(other))
                                .build()));
                assertTrue(unet.getMessage().contains("other.safetensors does not fit this model: it was trained"
                        + " for a UNet with block_out_channels " + wider.unetChannels()), unet.getMessage());
            }
        } finally {
            EngineThreads.set(threads);
        }
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

}
