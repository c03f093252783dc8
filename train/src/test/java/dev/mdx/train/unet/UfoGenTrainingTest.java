package dev.mdx.train.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.StateDicts;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.schedule.PredictionType;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.train.AdamW;
import dev.mdx.train.LossFunction;
import dev.mdx.train.Rng;
import dev.mdx.train.StopDuringStep;
import dev.mdx.train.Trainer;
import dev.mdx.train.TrainingConfig;
import dev.mdx.unet.UNet2DConditionModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** UFOGen on a tiny text-conditioned problem: phase isolation, a falling reconstruction term, exact resume. */
class UfoGenTrainingTest {
    @TempDir
    Path dir;

    /** 8 examples of constant-per-channel 4x8x8 latents (an easy, caption-dependent target), captioned "a".."h". */
    static LatentBatchSource tinyData(int batch, double dropout) {
        int n = 8;
        Shape shape = new Shape(4, 8, 8);
        float[] latents = new float[(int) (n * shape.size())];
        List<List<String>> captions = new ArrayList<>();
        Rng data = new Rng(5);
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < 4; c++) {
                float v = (float) data.nextGaussian();
                for (int p = 0; p < 64; p++) {
                    latents[(int) (i * shape.size() + c * 64 + p)] = v;
                }
            }
            captions.add(List.of(String.valueOf((char) ('a' + i))));
        }
        return new LatentBatchSource(latents, shape, captions, batch, dropout, 2);
    }

    static TextConditioning tinyText(NDManager m) {
        return new TextConditioning(DiffusionTrainingTest.tinyTextEncoder(m), DiffusionTrainingTest.letterTokenizer());
    }

    private record Setup(UfoGenModels models, UfoGenLoss loss, List<UfoGenLoss.Terms> terms) {}

    private static Setup setup(NDManager m) {
        UNet2DConditionModel generator = UNet2DConditionModel.fromConfig(DiffusionTrainingTest.tinyUnet());
        StateDicts.initRandom(generator, m, 1);
        UfoGenDiscriminator d = new UfoGenDiscriminator(DiffusionTrainingTest.tinyUnet());
        d.initFrom(generator, m);
        UfoGenModels models = new UfoGenModels(generator, d);
        List<UfoGenLoss.Terms> terms = new ArrayList<>();
        UfoGenLoss loss = new UfoGenLoss(models, tinyText(m), NoiseSchedule.of(ScheduleConfig.defaults()),
                PredictionType.EPSILON, new UfoGenLoss.Settings(250, 1.0, 0.1, 0.5), terms::add);
        return new Setup(models, loss, terms);
    }

    private static Trainer<LatentBatch> trainer(Setup s, LossFunction<LatentBatch> loss, int steps, Path out,
            String pattern) {
        TrainingConfig cfg = TrainingConfig.parse("t", "{\"trainer\": {\"max_train_steps\": " + steps + ","
                + "\"train_batch_size\": 4, \"learning_rate\": 2e-3, \"lr_warmup_steps\": 5, \"seed\": 3,"
                + "\"checkpointing_steps\": 1000, \"use_ema\": true, \"ema_decay\": 0.99, \"log_every\": 1000}}");
        return Trainer.builder(s.models(), loss, tinyData(4, 0.1), cfg, out)
                .phases(UfoGenTraining.phases(cfg.adamW(), new AdamW.Settings(0.0, 0.999, 1e-8, 0.0), 1.0),
                        UfoGenTraining.phasePattern(new JsonConfig("t", JsonConfig.parse("t",
                                "{\"phase_pattern\": \"" + pattern + "\"}").root())))
                .shutdownHook(false).progress(new PrintStream(new ByteArrayOutputStream()), false).build();
    }

    private static Map<String, float[]> params(UfoGenModels models) {
        Map<String, float[]> v = new LinkedHashMap<>();
        models.namedParameters().forEach((k, p) -> v.put(k, p.get().toFloatArray()));
        return v;
    }

    @Test
    void generatorStepsChangeOnlyTheGeneratorAndDiscriminatorStepsOnlyTheDiscriminator() {
        try (NDManager m = NDManager.newBaseManager()) {
            Setup s = setup(m);
            assertTrue(s.models().namedParameters().keySet().stream().noneMatch(k -> k.contains("up_blocks")
                    && k.startsWith("discriminator.")), "the discriminator has no decoder");
            List<Map<String, float[]>> snapshots = new ArrayList<>();
            List<Integer> phases = new ArrayList<>();
            LossFunction<LatentBatch> recording = (batch, ctx) -> {
                snapshots.add(params(s.models()));
                phases.add(ctx.phase());
                return s.loss().loss(batch, ctx);
            };
            try (Trainer<LatentBatch> t = trainer(s, recording, 4, dir, "dg")) {
                t.run(false);
            }
            snapshots.add(params(s.models()));
            assertEquals(List.of(1, 0, 1, 0), phases);
            for (int step = 0; step < 4; step++) {
                String trained = phases.get(step) == UfoGenLoss.GENERATOR ? "generator." : "discriminator.";
                int changed = 0;
                for (String k : snapshots.get(step).keySet()) {
                    boolean moved = !Arrays.equals(snapshots.get(step).get(k), snapshots.get(step + 1).get(k));
                    if (!k.startsWith(trained)) {
                        assertTrue(!moved, "step " + step + " (" + trained + ") changed " + k);
                    } else if (moved) {
                        changed++;
                    }
                }
                assertTrue(changed > 0, "step " + step + " changed no " + trained + " parameter");
            }
        }
    }

    @Test
    void reconstructionTermFallsAndResumeIsExact() {
        int steps = 120;
        float[] straight;
        List<UfoGenLoss.Terms> terms;
        try (NDManager m = NDManager.newBaseManager()) {
            Setup s = setup(m);
            try (Trainer<LatentBatch> t = trainer(s, s.loss(), steps, dir.resolve("a"), "dg")) {
                t.run(false);
                straight = t.ema().shadows().get("generator.conv_out.weight").toFloatArray();
            }
            terms = s.terms();
        }
        List<Double> rec = terms.stream().filter(t -> t.phase() == UfoGenLoss.GENERATOR)
                .map(UfoGenLoss.Terms::reconstruction).toList();
        double first = rec.subList(0, 10).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double last = rec.subList(rec.size() - 10, rec.size()).stream().mapToDouble(Double::doubleValue).average()
                .orElseThrow();
        System.out.printf("UFOGen reconstruction term: first 10 G steps %.4f, last 10 %.4f%n", first, last);
        terms.stream().skip(terms.size() - 4).forEach(t -> System.out.println("  " + t));
        assertTrue(last < 0.7 * first, "the reconstruction term should fall: " + first + " -> " + last);

        // resume: stop after 7 steps (mid-cycle), continue to 12, compare with 12 straight
        float[] twelve;
        try (NDManager m = NDManager.newBaseManager()) {
            Setup s = setup(m);
            try (Trainer<LatentBatch> t = trainer(s, s.loss(), 12, dir.resolve("b"), "dgg")) {
                t.run(false);
                twelve = params(s.models()).get("discriminator.logit_head.weight");
                straight = t.ema().shadows().get("generator.conv_out.weight").toFloatArray();
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            Setup s = setup(m);
            StopDuringStep<LatentBatch> stopping = new StopDuringStep<>(s.loss(), 6);
            try (Trainer<LatentBatch> t = trainer(s, stopping, 12, dir.resolve("c"), "dgg")) {
                stopping.attach(t);
                assertEquals(7, t.run(false).step());
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            Setup s = setup(m);
            try (Trainer<LatentBatch> t = trainer(s, s.loss(), 12, dir.resolve("c"), "dgg")) {
                assertEquals(12, t.run(true).step());
                assertArrayEquals(twelve, params(s.models()).get("discriminator.logit_head.weight"), 0f);
                assertArrayEquals(straight, t.ema().shadows().get("generator.conv_out.weight").toFloatArray(), 0f);
            }
        }
    }
}
