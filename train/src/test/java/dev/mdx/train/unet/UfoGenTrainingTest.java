package dev.mdx.train.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import dev.mdx.train.TrainingPhase;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.VaeConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
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
        return setup(m, new UfoGenLoss.Settings(250, 1.0, 0.1, 0.5));
    }

    private static Setup setup(NDManager m, UfoGenLoss.Settings settings) {
        return setup(m, settings, false);
    }

    /** A random two-level VAE: 4x8x8 latents (the tiny UNet's) to 3x16x16 images. */
    private static AutoencoderKL tinyVae(NDManager m) {
        AutoencoderKL vae = new AutoencoderKL(new VaeConfig(3, 3, 4, List.of(8, 16), 1, 4, 0.5,
                OptionalDouble.empty(), 16, true, true, true, null));
        StateDicts.initRandom(vae, m, 4);
        return vae;
    }

    /** With {@code pixel}, the discriminator is a PixelDiscriminator over a random two-level VAE (8x8 -> 16x16). */
    private static Setup setup(NDManager m, UfoGenLoss.Settings settings, boolean pixel) {
        UNet2DConditionModel generator = UNet2DConditionModel.fromConfig(DiffusionTrainingTest.tinyUnet());
        StateDicts.initRandom(generator, m, 1);
        Discriminator d;
        if (pixel) {
            AutoencoderKL vae = tinyVae(m);
            PixelDiscriminator p = new PixelDiscriminator(vae, 8,
                    DiffusionTrainingTest.tinyUnet().crossAttentionDim().get(0));
            p.init(m, 5);
            d = p;
        } else {
            UfoGenDiscriminator e = new UfoGenDiscriminator(DiffusionTrainingTest.tinyUnet());
            e.initFrom(generator, m);
            d = e;
        }
        UfoGenModels models = new UfoGenModels(generator, d);
        List<UfoGenLoss.Terms> terms = new ArrayList<>();
        UfoGenLoss loss = new UfoGenLoss(models, tinyText(m), NoiseSchedule.of(ScheduleConfig.defaults()),
                PredictionType.EPSILON, settings, terms::add);
        return new Setup(models, loss, terms);
    }

    private static Trainer<LatentBatch> trainer(Setup s, LossFunction<LatentBatch> loss, int steps, Path out,
            String pattern) {
        return trainer(s, loss, steps, out, UfoGenTraining.phasePattern(new JsonConfig("t", JsonConfig.parse("t",
                "{\"phase_pattern\": \"" + pattern + "\"}").root())));
    }

    private static Trainer<LatentBatch> trainer(Setup s, LossFunction<LatentBatch> loss, int steps, Path out,
            TrainingPhase.Schedule schedule) {
        TrainingConfig cfg = TrainingConfig.parse("t", "{\"trainer\": {\"max_train_steps\": " + steps + ","
                + "\"train_batch_size\": 4, \"learning_rate\": 2e-3, \"lr_warmup_steps\": 5, \"seed\": 3,"
                + "\"checkpointing_steps\": 1000, \"use_ema\": true, \"ema_decay\": 0.99, \"log_every\": 1000}}");
        return Trainer.builder(s.models(), loss, tinyData(4, 0.1), cfg, out)
                .phases(UfoGenTraining.phases(cfg.adamW(), new AdamW.Settings(0.0, 0.999, 1e-8, 0.0), 1.0), schedule)
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

    /**
     * With a teacher, a G step's one-step examples (t = N-1) are reconstructed towards the teacher's sample from the
     * same noisy input. The teacher here is the generator itself taking one trailing DDIM step to a final alpha of 1,
     * whose sample is exactly the generator's own x0 prediction: the reconstruction term must vanish, where against
     * the data it does not.
     */
    @Test
    void oneStepExamplesRegressToTheTeachersSample() {
        ScheduleConfig oneTrailingStep = ScheduleConfig.parse(JsonConfig.parse("s", """
                {"set_alpha_to_one": true, "timestep_spacing": "trailing", "clip_sample": false,
                 "steps_offset": 0}"""));
        UfoGenLoss.Settings allAtLastStep = new UfoGenLoss.Settings(250, 1.0, 0.1, 0.5, -1, false, 0, 1.0);
        double[] reconstruction = new double[2];
        for (int withTeacher = 0; withTeacher < 2; withTeacher++) {
            try (NDManager m = NDManager.newBaseManager()) {
                Setup plain = setup(m, allAtLastStep);
                TeacherSampler teacher = withTeacher == 1 ? new TeacherSampler(plain.models().generator,
                        oneTrailingStep, 1, 1.0) : null;
                List<UfoGenLoss.Terms> terms = new ArrayList<>();
                UfoGenLoss loss = new UfoGenLoss(plain.models(), tinyText(m), NoiseSchedule.of(
                        ScheduleConfig.defaults()), PredictionType.EPSILON, allAtLastStep, terms::add, teacher);
                // one G step (the pattern's first): its terms are measured before the update
                try (Trainer<LatentBatch> t = trainer(plain, loss, 1, dir.resolve("t" + withTeacher), "gd")) {
                    t.run(false);
                }
                assertEquals(UfoGenLoss.GENERATOR, terms.get(0).phase());
                reconstruction[withTeacher] = terms.get(0).reconstruction();
            }
        }
        System.out.printf("reconstruction at t = N-1: against the data %.4g, against the teacher %.4g%n",
                reconstruction[0], reconstruction[1]);
        assertTrue(reconstruction[0] > 0.1, "an untrained generator is far from the data: " + reconstruction[0]);
        assertTrue(reconstruction[1] < 1e-5, "the generator is its own one-step teacher: " + reconstruction[1]);
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

    /**
     * The discriminator alone (D steps only) on two easy distributions: real = the constant-per-channel latents,
     * fake = the x0 an untrained epsilon generator implies (large, noisy), both at t' = 0. Its logits start at 0
     * (accuracy 0 by the strict > 0 / < 0 rule) and it must end up classifying both sides, for the clamped BCE and
     * for the hinge loss, and in image space (PixelDiscriminator through a random VAE decoder); the per-bucket logits put every example in the t' = 0 bucket.
     */
    @Test
    void discriminatorSeparatesTwoEasyDistributions() {
        for (String kind : new String[] {"bce", "hinge", "pixel"}) {
            boolean hinge = !kind.equals("bce");
            List<UfoGenLoss.Terms> terms;
            try (NDManager m = NDManager.newBaseManager()) {
                Setup s = setup(m, new UfoGenLoss.Settings(250, 1.0, 1.0, 0.5, 0, hinge, 0, 0), kind.equals("pixel"));
                try (Trainer<LatentBatch> t = trainer(s, s.loss(), 60, dir.resolve("d" + kind),
                        TrainingPhase.Schedule.cycle(UfoGenLoss.DISCRIMINATOR))) {
                    t.run(false);
                }
                terms = s.terms();
            }
            UfoGenLoss.Terms first = terms.get(0);
            assertEquals(0.0, first.realAccuracy(), "zero-initialised head: logit 0, not above 0");
            double real = terms.subList(40, 60).stream().mapToDouble(UfoGenLoss.Terms::realAccuracy).average()
                    .orElseThrow();
            double fake = terms.subList(40, 60).stream().mapToDouble(UfoGenLoss.Terms::fakeAccuracy).average()
                    .orElseThrow();
            UfoGenLoss.Terms last = terms.get(59);
            System.out.printf("D alone (%s): accuracy real %.2f fake %.2f over the last 20 steps; last %s%n",
                    kind, real, fake, last);
            assertTrue(real >= 0.85 && fake >= 0.85, kind + ": real " + real + " fake " + fake);
            assertTrue(last.realByBucket()[0] > last.fakeByBucket()[0], "t' = 0 bucket: real above fake");
            for (int b = 1; b < UfoGenLoss.BUCKETS.length; b++) {
                assertTrue(Double.isNaN(last.realByBucket()[b]), "t' is always 0 here, bucket " + b + " is empty");
            }
            assertTrue(last.adversarial() < first.adversarial(), "the D loss falls");
        }
    }

    /**
     * The gradient probe measures each term's gradient norm on the generator without changing training: the same
     * run with and without it ends with bit-identical weights, and the measured norms are positive.
     */
    @Test
    void gradientProbeMeasuresBothTermsAndLeavesTrainingUnchanged() {
        Map<String, float[]> withProbe;
        Map<String, float[]> without;
        List<UfoGenLoss.Terms> probed;
        try (NDManager m = NDManager.newBaseManager()) {
            Setup s = setup(m, new UfoGenLoss.Settings(250, 1.0, 1.0, 0.5, -1, false, 1, 0.5));
            try (Trainer<LatentBatch> t = trainer(s, s.loss(), 6, dir.resolve("p"), "dgg")) {
                t.run(false);
            }
            withProbe = params(s.models());
            probed = s.terms();
        }
        try (NDManager m = NDManager.newBaseManager()) {
            Setup s = setup(m, new UfoGenLoss.Settings(250, 1.0, 1.0, 0.5, -1, false, 0, 0.5));
            try (Trainer<LatentBatch> t = trainer(s, s.loss(), 6, dir.resolve("q"), "dgg")) {
                t.run(false);
            }
            without = params(s.models());
        }
        for (String k : without.keySet()) {
            assertArrayEquals(without.get(k), withProbe.get(k), 0f, k);
        }
        for (UfoGenLoss.Terms t : probed) {
            if (t.phase() == UfoGenLoss.GENERATOR) {
                assertTrue(t.reconstructionGradNorm() > 0, "reconstruction gradient measured: " + t);
                assertTrue(t.adversarialGradNorm() >= 0, "adversarial gradient measured: " + t);
            } else {
                assertTrue(Double.isNaN(t.adversarialGradNorm()), "D steps measure no generator gradient");
            }
        }
        // after a D step the head is no longer zero, so the adversarial term reaches the generator
        assertFalse(probed.stream().filter(t -> t.phase() == UfoGenLoss.GENERATOR).allMatch(t ->
                t.adversarialGradNorm() == 0), "the adversarial term never reached the generator");
    }

    /**
     * The pixel discriminator trains only its own convolutions (the VAE decoder is frozen: not among its
     * parameters, unchanged by D steps) and passes the adversarial gradient through the decoder to the generator.
     */
    @Test
    void pixelDiscriminatorKeepsTheVaeFrozenAndReachesTheGenerator() {
        try (NDManager m = NDManager.newBaseManager()) {
            Setup s = setup(m, new UfoGenLoss.Settings(250, 1.0, 1.0, 0.5, 0, true, 1, 0.5), true);
            assertTrue(s.models().namedParameters().keySet().stream().filter(k -> k.startsWith("discriminator."))
                    .allMatch(k -> k.matches("discriminator\\.(conv[123]|logit_head|text_projection)\\..*")),
                    "only the patch convolutions are the discriminator's parameters");
            try (Trainer<LatentBatch> t = trainer(s, s.loss(), 4, dir.resolve("px"), "dg")) {
                t.run(false);
            }
            UfoGenLoss.Terms g = s.terms().get(3);
            assertEquals(UfoGenLoss.GENERATOR, g.phase());
            assertTrue(g.adversarialGradNorm() > 0, "the adversarial term reaches the generator: " + g);
        }
    }

    /** The projection term makes the pixel discriminator's logits depend on the text; without it they do not. */
    @Test
    void pixelDiscriminatorIsTextConditionedThroughItsProjection() {
        try (NDManager m = NDManager.newBaseManager()) {
            AutoencoderKL vae = tinyVae(m);
            PixelDiscriminator conditioned = new PixelDiscriminator(vae, 8, 6);
            StateDicts.initRandom(conditioned, m, 7); // a random projection, as after some training
            PixelDiscriminator plain = new PixelDiscriminator(vae, 8, 0);
            StateDicts.initRandom(plain, m, 7);
            assertFalse(plain.namedParameters().keySet().stream().anyMatch(k -> k.startsWith("text_projection")));
            Rng rng = new Rng(9);
            var latents = m.create(rng.gaussians(2 * 4 * 8 * 8), new Shape(2, 4, 8, 8));
            var t = m.zeros(new Shape(2));
            var a = m.create(rng.gaussians(2 * 5 * 6), new Shape(2, 5, 6));
            var b = m.create(rng.gaussians(2 * 5 * 6), new Shape(2, 5, 6));
            assertFalse(Arrays.equals(conditioned.forward(latents, t, a).toFloatArray(),
                    conditioned.forward(latents, t, b).toFloatArray()), "the text changes the logits");
            assertArrayEquals(plain.forward(latents, t, a).toFloatArray(), plain.forward(latents, t, b).toFloatArray(),
                    0f, "unconditional: the text does not matter");
        }
    }
}
