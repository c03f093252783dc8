package dev.mdx.train.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.GuidanceEmbedding;
import dev.mdx.sampling.Sampler;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.sampling.SamplerState;
import dev.mdx.sampling.SamplingPlan;
import dev.mdx.schedule.PredictionType;
import dev.mdx.train.LossFunction;
import dev.mdx.train.Rng;
import dev.mdx.train.StopDuringStep;
import dev.mdx.train.Trainer;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Meng et al.'s w-conditioned guidance distillation in LCM's form, on {@link DistillationTest}'s tiny problem: the
 * student reads the embedding of w - 1 and makes one UNet pass per step; it must start as the teacher, learn (the
 * loss falls and its single-pass 8-step samples move towards the teacher's guided 16-step samples), resume
 * bit-identically, and bad settings must be refused by name.
 */
class WConditionedDistillationTest {
    static final int DIM = DistillationLoss.Settings.DEFAULT_GUIDANCE_EMBEDDING_DIM;

    @TempDir
    Path dir;

    static DistillationLoss.Settings settings(double wMin, double wMax, double oriWeight) {
        return new DistillationLoss.Settings(8, PredictionType.V_PREDICTION, PredictionType.V_PREDICTION, 0.1, wMin,
                wMax, 1, oriWeight, true, 0, true, DIM);
    }

    /** A deterministic DDIM run of a w-conditioned UNet: one pass per step at batch B, reading embedding(w - 1). */
    static float[] sampleOnePass(UNet2DConditionModel unet, TextConditioning text, int steps, double w,
            NDManager parent) {
        try (NDManager m = parent.newSubManager()) {
            Sampler ddim = SamplerKind.DDIM.create(DistillationTest.SCHEDULE);
            SamplingPlan plan = ddim.plan(steps);
            NDArray x = new Rng(77).randn(m, new Shape(DistillationTest.PROMPTS.size(), 4, 8, 8));
            NDArray cond = text.encode(DistillationTest.PROMPTS, m);
            NDArray guidance = new GuidanceEmbedding(unet.config().timeCondProjDim()).ofScales(new double[] {w}, m);
            try (SamplerState state = new SamplerState()) {
                for (int i = 0; i < plan.size(); i++) {
                    NDArray t = m.create(new float[] {plan.timestep(i)});
                    x = ddim.step(plan, i, unet.forward(x, t, cond, guidance), x, null, state).prevSample();
                }
            }
            return x.toFloatArray();
        }
    }

    @Test
    void theStudentStartsAsExactlyTheTeacher() {
        try (NDManager m = NDManager.newBaseManager()) {
            UNet2DConditionModel teacher = UNet2DConditionModel.fromConfig(DiffusionTrainingTest.tinyUnet());
            StateDicts.initRandom(teacher, m, 1);
            UNet2DConditionModel student = WConditionedStudent.fromTeacher(teacher, DIM, m);
            assertEquals(DIM, student.config().timeCondProjDim());
            NDArray condProj = student.namedParameters().get(WConditionedStudent.COND_PROJ_KEY).get();
            assertEquals(new Shape(16, DIM), condProj.getShape());
            assertEquals(0f, condProj.abs().max().getFloat(), "cond_proj starts at zero");
            NDArray x = m.randomNormal(new Shape(2, 4, 8, 8));
            NDArray t = m.create(new float[] {700f, 30f});
            NDArray context = m.randomNormal(new Shape(2, 5, 16));
            NDArray w = new GuidanceEmbedding(DIM).ofScales(new double[] {7.5, 1.0}, m);
            assertArrayEquals(teacher.forward(x, t, context).toFloatArray(),
                    student.forward(x, t, context, w).toFloatArray(), 0f);
            assertTrue(teacher.namedParameters().get("conv_in.weight").get()
                    != student.namedParameters().get("conv_in.weight").get(), "the student owns copies");
        }
    }

    /**
     * tinyUnet with 2 GroupNorm groups instead of 8. With 8 groups of 2-4 channels the trained teacher hardly responds
     * to guidance (its guided and unguided 16-step samples differ by MSE 0.0002, below the 8-vs-16-step gap of
     * 0.0014), a signal the w path does not pick up in a test's budget (measured: still w-blind after 600 steps,
     * starting to separate w after 2000). With 2 groups guidance moves the samples to another mode (MSE 0.24), so
     * whether the one-pass student produces guided samples is unmistakable.
     */
    static UNetConfig guidanceSensitiveUnet() {
        return UNetConfig.parse("tiny, 2 groups", DiffusionTrainingTest.tinyUnet().toJson()
                .replace("\"norm_num_groups\" : 8", "\"norm_num_groups\" : 2"));
    }

    @Test
    void distillationLossFallsAndTheOnePassStudentTracksTheGuidedTeacher() {
        try (NDManager m = NDManager.newBaseManager()) {
            TextConditioning text = UfoGenTrainingTest.tinyText(m);
            UNetConfig config = guidanceSensitiveUnet();
            assertEquals(2, config.normNumGroups());
            UNet2DConditionModel teacher = DistillationTest.trainedTeacher(config, text, m, dir.resolve("teacher"));
            UNet2DConditionModel student = WConditionedStudent.fromTeacher(teacher, DIM, m);
            // the training range is [1.5, 3] (as DistillationTest's CFG-aware student); w = 1 lies outside it
            double[] scales = {1.5, 2, 3, 1};
            int inRange = 3;
            double[] before = new double[scales.length];
            double[] teacher8 = new double[scales.length];
            float[][] teacher16 = new float[scales.length][];
            for (int k = 0; k < scales.length; k++) {
                teacher16[k] = DistillationTest.sample(teacher, text, 16, scales[k], m);
                teacher8[k] = DistillationTest.mse(DistillationTest.sample(teacher, text, 8, scales[k], m),
                        teacher16[k]);
                before[k] = DistillationTest.mse(sampleOnePass(student, text, 8, scales[k], m), teacher16[k]);
            }

            DistillationLoss loss = new DistillationLoss(student, teacher, text, DistillationTest.SCHEDULE,
                    settings(1.5, 3, 0.2));
            List<Double> distill = new ArrayList<>();
            List<Double> original = new ArrayList<>();
            LossFunction<LatentBatch> recording = (batch, ctx) -> {
                NDArray l = loss.loss(batch, ctx);
                distill.add(loss.lastTerms().distillation());
                original.add(loss.lastTerms().original());
                assertTrue(loss.lastTerms().cfg(), "every step draws w per example");
                return l;
            };
            try (Trainer<LatentBatch> t = DistillationTest.trainer(student, recording,
                    UfoGenTrainingTest.tinyData(8, 0.1), DistillationTest.config(150, 3e-4, false),
                    dir.resolve("student"))) {
                t.run(false);
            }
            double first = DistillationTest.mean(distill, 0, 25);
            double last = DistillationTest.mean(distill, distill.size() - 25, distill.size());
            System.out.printf("w-conditioned distillation loss: first 25 steps %.5f, last 25 %.5f (L_ori %.4f ->"
                    + " %.4f)%n", first, last, DistillationTest.mean(original, 0, 25),
                    DistillationTest.mean(original, original.size() - 25, original.size()));
            System.out.printf("max |cond_proj| after training %.5f%n", student.namedParameters()
                    .get(WConditionedStudent.COND_PROJ_KEY).get().abs().max().getFloat());
            double[] after = new double[scales.length];
            for (int k = 0; k < scales.length; k++) {
                after[k] = DistillationTest.mse(sampleOnePass(student, text, 8, scales[k], m), teacher16[k]);
                System.out.printf("w=%s: MSE to the teacher's guided 16-step sample: student (8 steps, 1 pass each)"
                        + " %.5f -> %.5f; teacher at 8 guided steps (2 passes each) %.5f%n", scales[k], before[k],
                        after[k], teacher8[k]);
            }
            float[] low = sampleOnePass(student, text, 8, 1.5, m);
            float[] high = sampleOnePass(student, text, 8, 3, m);
            System.out.printf("w-sensitivity, MSE(sample at w=1.5, at w=3): student %.6f, teacher (16 steps) %.6f%n",
                    DistillationTest.mse(low, high), DistillationTest.mse(teacher16[0], teacher16[2]));
            assertTrue(last < first, "the distillation loss should fall: " + first + " -> " + last);
            for (int k = 0; k < inRange; k++) {
                assertTrue(after[k] < before[k], "at w = " + scales[k] + " the 8-step one-pass student should track"
                        + " the guided 16-step teacher better: " + before[k] + " -> " + after[k]);
            }
        }
    }

    private static Map<String, float[]> params(UNet2DConditionModel unet) {
        Map<String, float[]> v = new LinkedHashMap<>();
        unet.namedParameters().forEach((k, p) -> v.put(k, p.get().toFloatArray()));
        return v;
    }

    private record Run(UNet2DConditionModel student, DistillationLoss loss) {}

    private static Run run(NDManager m, TextConditioning text) {
        UNet2DConditionModel teacher = UNet2DConditionModel.fromConfig(DiffusionTrainingTest.tinyUnet());
        StateDicts.initRandom(teacher, m, 1);
        UNet2DConditionModel student = WConditionedStudent.fromTeacher(teacher, DIM, m);
        return new Run(student, new DistillationLoss(student, teacher, text, DistillationTest.SCHEDULE,
                settings(1.5, 6, 0.2)));
    }

    @Test
    void resumeIsBitIdentical() {
        int steps = 8;
        Map<String, float[]> straight;
        float[] straightEma;
        try (NDManager m = NDManager.newBaseManager()) {
            Run r = run(m, UfoGenTrainingTest.tinyText(m));
            try (Trainer<LatentBatch> t = DistillationTest.trainer(r.student(), r.loss(),
                    UfoGenTrainingTest.tinyData(4, 0.1), DistillationTest.config(steps, 1e-3, true), dir.resolve("a"))) {
                t.run(false);
                straightEma = t.ema().shadows().get(WConditionedStudent.COND_PROJ_KEY).toFloatArray();
            }
            straight = params(r.student());
        }
        try (NDManager m = NDManager.newBaseManager()) {
            Run r = run(m, UfoGenTrainingTest.tinyText(m));
            StopDuringStep<LatentBatch> stopping = new StopDuringStep<>(r.loss(), 4);
            try (Trainer<LatentBatch> t = DistillationTest.trainer(r.student(), stopping,
                    UfoGenTrainingTest.tinyData(4, 0.1), DistillationTest.config(steps, 1e-3, true), dir.resolve("b"))) {
                stopping.attach(t);
                assertEquals(5, t.run(false).step());
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            Run r = run(m, UfoGenTrainingTest.tinyText(m));
            try (Trainer<LatentBatch> t = DistillationTest.trainer(r.student(), r.loss(),
                    UfoGenTrainingTest.tinyData(4, 0.1), DistillationTest.config(steps, 1e-3, true), dir.resolve("b"))) {
                assertEquals(steps, t.run(true).step());
                assertArrayEquals(straightEma, t.ema().shadows().get(WConditionedStudent.COND_PROJ_KEY)
                        .toFloatArray(), 0f);
            }
            Map<String, float[]> resumed = params(r.student());
            assertEquals(straight.keySet(), resumed.keySet());
            straight.forEach((k, v) -> assertArrayEquals(v, resumed.get(k), 0f, k));
            assertTrue(straight.get(WConditionedStudent.COND_PROJ_KEY)[0] != 0f, "cond_proj was trained");
        }
    }

    @Test
    void aWConditionedTeacherTeachesInOnePassAndItsStudentKeepsTheWidth() {
        try (NDManager m = NDManager.newBaseManager()) {
            TextConditioning text = UfoGenTrainingTest.tinyText(m);
            Run first = run(m, text);
            UNet2DConditionModel teacher = first.student();
            // a trained-looking cond_proj, so the teacher's w matters
            teacher.namedParameters().get(WConditionedStudent.COND_PROJ_KEY).set(
                    m.randomNormal(0f, 0.05f, new Shape(16, DIM), ai.djl.ndarray.types.DataType.FLOAT32));
            UNet2DConditionModel student = DistillationTest.copy(teacher, m);
            DistillationLoss loss = new DistillationLoss(student, teacher, text, DistillationTest.SCHEDULE,
                    new DistillationLoss.Settings(4, PredictionType.V_PREDICTION, PredictionType.V_PREDICTION, 0.1, 2,
                            6, 1, 0.2, true, 0, true, DIM));
            List<Double> terms = new ArrayList<>();
            LossFunction<LatentBatch> recording = (batch, ctx) -> {
                NDArray l = loss.loss(batch, ctx);
                terms.add(loss.lastTerms().distillation());
                return l;
            };
            try (Trainer<LatentBatch> t = DistillationTest.trainer(student, recording,
                    UfoGenTrainingTest.tinyData(4, 0.1), DistillationTest.config(3, 1e-4, false), dir.resolve("c"))) {
                t.run(false);
            }
            assertEquals(3, terms.size());
            terms.forEach(d -> assertTrue(Double.isFinite(d) && d > 0, "distillation term " + d));
            // a CFG student of a w-conditioned teacher, or another width, is refused
            UNet2DConditionModel plain = UNet2DConditionModel.fromConfig(DiffusionTrainingTest.tinyUnet());
            StateDicts.initRandom(plain, m, 2);
            assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(plain, teacher, text,
                    DistillationTest.SCHEDULE, new DistillationLoss.Settings(4, PredictionType.V_PREDICTION,
                            PredictionType.V_PREDICTION, 0.1, 2, 6, 1, 0.2, true, 0)));
        }
    }

    @Test
    void vFineTuneStepsTrainTheUnguidedOutputOfAWConditionedStudent() {
        try (NDManager m = NDManager.newBaseManager()) {
            TextConditioning text = UfoGenTrainingTest.tinyText(m);
            UNet2DConditionModel teacher = UNet2DConditionModel.fromConfig(DiffusionTrainingTest.tinyUnet());
            StateDicts.initRandom(teacher, m, 1);
            UNet2DConditionModel student = WConditionedStudent.fromTeacher(teacher, DIM, m);
            // 2 v fine-tune steps (the student's own denoising loss, fed the embedding of scale 1), then distillation
            DistillationLoss loss = new DistillationLoss(student, teacher, text, DistillationTest.SCHEDULE,
                    new DistillationLoss.Settings(4, PredictionType.EPSILON, PredictionType.V_PREDICTION, 0.1, 2, 6, 1,
                            0.2, true, 2, true, DIM));
            List<Double> original = new ArrayList<>();
            LossFunction<LatentBatch> recording = (batch, ctx) -> {
                NDArray l = loss.loss(batch, ctx);
                original.add(loss.lastTerms().original());
                return l;
            };
            try (Trainer<LatentBatch> t = DistillationTest.trainer(student, recording,
                    UfoGenTrainingTest.tinyData(4, 0.1), DistillationTest.config(3, 1e-4, false), dir.resolve("v"))) {
                t.run(false);
            }
            assertEquals(3, original.size());
            assertTrue(Double.isFinite(original.get(0)) && Double.isFinite(original.get(1)), original.toString());
        }
    }

    @Test
    void theLossRefusesAStudentWithoutTheInputAndAPlainSettingWithOne() {
        try (NDManager m = NDManager.newBaseManager()) {
            TextConditioning text = UfoGenTrainingTest.tinyText(m);
            UNet2DConditionModel teacher = UNet2DConditionModel.fromConfig(DiffusionTrainingTest.tinyUnet());
            StateDicts.initRandom(teacher, m, 1);
            IllegalArgumentException noInput = assertThrows(IllegalArgumentException.class, () ->
                    new DistillationLoss(DistillationTest.copy(teacher, m), teacher, text, DistillationTest.SCHEDULE,
                            settings(2, 6, 0.2)));
            assertTrue(noInput.getMessage().contains("time_cond_proj_dim " + DIM), noInput.getMessage());
            UNet2DConditionModel w = WConditionedStudent.fromTeacher(teacher, DIM, m);
            assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(w, teacher, text,
                    DistillationTest.SCHEDULE, new DistillationLoss.Settings(8, PredictionType.V_PREDICTION,
                            PredictionType.V_PREDICTION, 0.1, 2, 6, 1, 0.2, true, 0)));
            assertThrows(IllegalArgumentException.class, () -> WConditionedStudent.fromTeacher(w, DIM, m));
        }
    }

    private static JsonConfig distill(String json) {
        return JsonConfig.parse("distill.json (distill)", json);
    }

    private static void assertRefused(String json, UNetConfig teacher, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> DistillTraining.settings(distill(json), PredictionType.EPSILON, teacher));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' missing from: " + e.getMessage());
        }
        System.out.println("refused: " + e.getMessage());
    }

    @Test
    void theExampleConfigIsValid() {
        Path file = Path.of("..", "configs", "distill-fashion-8-wcond.json").toAbsolutePath().normalize();
        if (!java.nio.file.Files.isRegularFile(file)) {
            file = Path.of("configs", "distill-fashion-8-wcond.json").toAbsolutePath();
        }
        JsonConfig doc = JsonConfig.read(file);
        DistillationLoss.Settings s = DistillTraining.settings(new JsonConfig(file + " (distill)",
                doc.root().get("distill")), PredictionType.EPSILON, DiffusionTrainingTest.tinyUnet());
        assertTrue(s.wConditioned());
        assertEquals(256, s.guidanceEmbeddingDim());
        dev.mdx.train.TrainingConfig.fromDocument(doc);
    }

    @Test
    void settingsKeysAndNonsensicalCombinations() {
        UNetConfig plain = DiffusionTrainingTest.tinyUnet();
        UNetConfig wTeacher = plain.withTimeCondProjDim(32);
        DistillationLoss.Settings on = DistillTraining.settings(distill("{\"w_conditioned\": true}"),
                PredictionType.EPSILON, plain);
        assertTrue(on.wConditioned());
        assertEquals(256, on.guidanceEmbeddingDim(), "the default width");
        assertEquals(2.0, on.guidanceMin());
        assertEquals(14.0, on.guidanceMax());
        assertEquals(64, DistillTraining.settings(distill("{\"w_conditioned\": true, \"guidance_embedding_dim\": 64}"),
                PredictionType.EPSILON, plain).guidanceEmbeddingDim());
        assertEquals(32, DistillTraining.settings(distill("{\"w_conditioned\": true}"), PredictionType.EPSILON,
                wTeacher).guidanceEmbeddingDim(), "a w-conditioned teacher's width");
        assertTrue(!DistillTraining.settings(distill("{}"), PredictionType.EPSILON, plain).wConditioned());

        assertRefused("{\"w_conditioned\": true, \"guidance_embedding_dim\": 0}", plain, "'guidance_embedding_dim'",
                "at least 4", "got 0");
        assertRefused("{\"w_conditioned\": true, \"guidance_embedding_dim\": -8}", plain, "'guidance_embedding_dim'");
        assertRefused("{\"w_conditioned\": true, \"guidance_embedding_dim\": 3}", plain, "'guidance_embedding_dim'");
        assertRefused("{\"w_conditioned\": true, \"cfg_probability\": 0.5}", plain, "'cfg_probability'",
                "does not apply");
        assertRefused("{\"w_conditioned\": true, \"guidance\": 3}", plain, "'guidance'", "does not apply");
        assertRefused("{\"guidance_embedding_dim\": 64}", plain, "'guidance_embedding_dim'", "w_conditioned");
        assertRefused("{\"w_conditioned\": \"yes\"}", plain, "'w_conditioned'");
        assertRefused("{}", wTeacher, "'w_conditioned'", "time_cond_proj_dim 32");
        assertRefused("{\"w_conditioned\": true, \"guidance_embedding_dim\": 64}", wTeacher,
                "'guidance_embedding_dim'", "teacher's time_cond_proj_dim 32");
        assertRefused("{\"w_conditioned\": true, \"guidance_min\": 0.5}", plain, "guidance scales must be >= 1");
    }
}
