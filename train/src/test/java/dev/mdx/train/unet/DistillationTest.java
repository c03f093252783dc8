package dev.mdx.train.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.StateDicts;
import dev.mdx.sampling.Sampler;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.sampling.SamplerState;
import dev.mdx.sampling.SamplingPlan;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.schedule.PredictionType;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.train.LossFunction;
import dev.mdx.train.Rng;
import dev.mdx.train.Trainer;
import dev.mdx.train.TrainingConfig;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Step distillation on a tiny problem: a v-prediction teacher trained for a few seconds, an 8-step student
 * distilled from its 16 half steps. The distillation loss must fall and the student's 8-step DDIM samples must move
 * towards the teacher's 16-step samples from the same noise.
 */
class DistillationTest {
    @TempDir
    Path dir;

    static final ScheduleConfig SCHEDULE = ScheduleConfig.parse(JsonConfig.parse("tiny schedule",
            "{\"num_train_timesteps\": 800, \"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085,"
                    + "\"beta_end\": 0.012, \"prediction_type\": \"v_prediction\", \"set_alpha_to_one\": false,"
                    + "\"timestep_spacing\": \"trailing\"}"));
    static final List<String> PROMPTS = List.of("a", "b", "c", "d");

    static TrainingConfig config(int steps, double lr, boolean ema) {
        return TrainingConfig.parse("t", "{\"trainer\": {\"max_train_steps\": " + steps + ", \"train_batch_size\": 8,"
                + "\"learning_rate\": " + lr + ", \"lr_warmup_steps\": 5, \"checkpointing_steps\": 1000,"
                + "\"use_ema\": " + ema + ", \"ema_decay\": 0.9, \"log_every\": 1000, \"seed\": 4}}");
    }

    static <B> Trainer<B> trainer(UNet2DConditionModel unet, LossFunction<B> loss,
            dev.mdx.train.BatchSource<B> data, TrainingConfig cfg, Path out) {
        return Trainer.builder(unet, loss, data, cfg, out).shutdownHook(false)
                .progress(new PrintStream(new ByteArrayOutputStream()), false).build();
    }

    static UNet2DConditionModel copy(UNet2DConditionModel from, NDManager m) {
        UNet2DConditionModel to = UNet2DConditionModel.fromConfig(from.config());
        to.namedParameters().forEach((k, p) -> {
            NDArray v = from.namedParameters().get(k).get().duplicate();
            v.attach(m);
            p.set(v);
        });
        return to;
    }

    /** A deterministic DDIM run of {@code steps} with guidance w from fixed noise; (4, 4, 8, 8) values. */
    static float[] sample(UNet2DConditionModel unet, TextConditioning text, int steps, double w, NDManager parent) {
        try (NDManager m = parent.newSubManager()) {
            Sampler ddim = SamplerKind.DDIM.create(SCHEDULE);
            SamplingPlan plan = ddim.plan(steps);
            NDArray x = new Rng(77).randn(m, new Shape(PROMPTS.size(), 4, 8, 8));
            NDArray cond = text.encode(PROMPTS, m);
            NDArray uncond = text.encode(Collections.nCopies(PROMPTS.size(), ""), m);
            try (SamplerState state = new SamplerState()) {
                for (int i = 0; i < plan.size(); i++) {
                    NDArray t = m.create(new float[] {plan.timestep(i)});
                    NDList halves = unet.forward(NDArrays.concat(new NDList(x, x), 0), t,
                            NDArrays.concat(new NDList(uncond, cond), 0)).split(2, 0);
                    NDArray out = halves.get(0).add(halves.get(1).sub(halves.get(0)).mul((float) w));
                    x = ddim.step(plan, i, out, x, null, state).prevSample();
                }
            }
            return x.toFloatArray();
        }
    }

    static double mse(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (double) (a[i] - b[i]);
        }
        return s / a.length;
    }

    @Test
    void studentStepsGridIsTheDdimPlan() {
        assertArrayEquals(new int[] {799, 699, 599, 499, 399, 299, 199, 99},
                DistillationLoss.studentTimesteps(SCHEDULE, 8));
    }

    /** The tiny v-prediction teacher: 120 steps of the denoising loss from random weights (seed 1). */
    static UNet2DConditionModel trainedTeacher(TextConditioning text, NDManager m, Path out) {
        return trainedTeacher(DiffusionTrainingTest.tinyUnet(), text, m, out);
    }

    static UNet2DConditionModel trainedTeacher(UNetConfig config, TextConditioning text, NDManager m, Path out) {
        UNet2DConditionModel teacher = UNet2DConditionModel.fromConfig(config);
        StateDicts.initRandom(teacher, m, 1);
        DiffusionLoss base = new DiffusionLoss(teacher, text.textEncoder(), text.tokenizer(),
                NoiseSchedule.of(SCHEDULE), PredictionType.V_PREDICTION);
        try (Trainer<LatentBatch> t = trainer(teacher, base, UfoGenTrainingTest.tinyData(8, 0.2),
                config(120, 3e-3, false), out)) {
            t.run(false);
        }
        return teacher;
    }

    /** The mean of a window of logged values. */
    static double mean(List<Double> values, int from, int to) {
        return values.subList(from, to).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

    @Test
    void distillationLossFallsAndTheStudentTracksTheTeacher() {
        try (NDManager m = NDManager.newBaseManager()) {
            TextConditioning text = UfoGenTrainingTest.tinyText(m);
            UNet2DConditionModel teacher = trainedTeacher(text, m, dir.resolve("teacher"));
            UNet2DConditionModel student = copy(teacher, m);
            float[] teacher16 = sample(teacher, text, 16, 1, m);
            float[] teacher16g = sample(teacher, text, 16, 2, m);
            double before = mse(sample(student, text, 8, 1, m), teacher16);
            double beforeGuided = mse(sample(student, text, 8, 2, m), teacher16g);

            DistillationLoss loss = new DistillationLoss(student, teacher, text, SCHEDULE,
                    new DistillationLoss.Settings(8, PredictionType.V_PREDICTION, PredictionType.V_PREDICTION, 0.5,
                            1.5, 3, 1, 0.2, true, 0));
            List<Double> distill = new ArrayList<>();
            LossFunction<LatentBatch> recording = (batch, ctx) -> {
                NDArray l = loss.loss(batch, ctx);
                distill.add(loss.lastTerms().distillation());
                return l;
            };
            try (Trainer<LatentBatch> t = trainer(student, recording, UfoGenTrainingTest.tinyData(8, 0.1),
                    config(150, 3e-4, false), dir.resolve("student"))) {
                t.run(false);
            }
            double first = mean(distill, 0, 25);
            double last = mean(distill, distill.size() - 25, distill.size());
            double after = mse(sample(student, text, 8, 1, m), teacher16);
            double afterGuided = mse(sample(student, text, 8, 2, m), teacher16g);
            System.out.printf("distillation loss: first 25 steps %.5f, last 25 %.5f%n", first, last);
            System.out.printf("MSE(student 8 steps, teacher 16 steps): w=1 %.5f -> %.5f, w=2 %.5f -> %.5f%n", before,
                    after, beforeGuided, afterGuided);
            assertTrue(last < first, "distillation loss should fall: " + first + " -> " + last);
            assertTrue(after < before, "the 8-step student should track the 16-step teacher better: " + before
                    + " -> " + after);
            assertTrue(afterGuided < beforeGuided, "also with guidance: " + beforeGuided + " -> " + afterGuided);
        }
    }

    @Test
    void targetsGoThroughXSpaceForEitherPredictionType() {
        try (NDManager m = NDManager.newBaseManager()) {
            NoiseSchedule schedule = NoiseSchedule.of(SCHEDULE);
            NoiseLevels at = NoiseLevels.of(schedule, new int[] {799, 399, 99}, 0.5f, m);
            NoiseLevels next = NoiseLevels.of(schedule, new int[] {699, 199, -1}, 0.999f, m);
            Rng rng = new Rng(3);
            NDArray x0 = rng.randn(m, new Shape(3, 4, 2, 2));
            NDArray eps = rng.randn(m, new Shape(3, 4, 2, 2));
            NDArray zt = at.noise(x0, eps);
            // the epsilon and v outputs of a perfect model both convert to the same x0 and eps
            for (PredictionType type : List.of(PredictionType.EPSILON, PredictionType.V_PREDICTION)) {
                NDArray out = at.target(type, x0, eps);
                assertArrayEquals(x0.toFloatArray(), at.x0(type, out, zt).toFloatArray(), 1e-4f, type + " x0");
                assertArrayEquals(eps.toFloatArray(), at.eps(type, out, zt).toFloatArray(), 1e-4f, type + " eps");
            }
            // a teacher whose steps keep the same (x0, eps) lands where one DDIM step lands: the target is x0
            NDArray zNext = next.noise(x0, eps);
            assertArrayEquals(x0.toFloatArray(), DistillationLoss.oneStepTarget(zt, zNext, at, next).toFloatArray(),
                    1e-3f);
        }
        assertEquals(PredictionType.V_PREDICTION, DistillTraining.settings(new JsonConfig("d",
                JsonConfig.MAPPER.createObjectNode()), PredictionType.EPSILON, DiffusionTrainingTest.tinyUnet())
                .studentPrediction());
    }
}
