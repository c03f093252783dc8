package dev.mdx.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.testing.Golden;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Step-by-step parity with diffusers 0.25.1 for every case of schedulers_golden.json: the case's resolved config and
 * step count drive our sampler; timesteps must match exactly, sigmas and init_noise_sigma to float32 rounding, and the
 * closed loop (our model input -> the golden's synthetic model -> our step, with the recorded step noise injected)
 * must reproduce every model input, model output, prev_sample, pred_original_sample / denoised and the final sample.
 */
class SchedulerGoldenTest {
    private static final String TOLERANCE_ROW = "final_sample (all cases)";
    /** Relative error allowed on a sigma: numpy/torch vs Java libm can differ in the last float32 bit. */
    private static final double SIGMA_REL_TOL = 1e-6;

    private static SchedulerGolden golden;
    private static double atol;
    private static final List<String> SUMMARY = new ArrayList<>();
    private static double worst;
    private static double worstIsolated;

    @BeforeAll
    static void load() {
        golden = SchedulerGolden.load();
        atol = Golden.tolerance(golden.file, TOLERANCE_ROW, 5e-5);
    }

    @AfterAll
    static void summary() {
        SUMMARY.forEach(System.out::println);
        System.out.printf("schedulers golden: %d runs, worst max abs error %.3g closed loop, %.3g with stored model"
                + " outputs (atol %.3g)%n", SUMMARY.size(), worst, worstIsolated, atol);
    }

    @TestFactory
    Stream<DynamicTest> everyCase() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : golden.root.get("cases")) {
            String name = c.get("name").asText() + " x" + c.get("num_inference_steps").asInt();
            tests.add(DynamicTest.dynamicTest(name, () -> runCase(name, c)));
            tests.add(DynamicTest.dynamicTest(name + " (stored model outputs)", () -> runStepsInIsolation(name, c)));
        }
        assertFalse(tests.isEmpty(), "no cases in " + golden.file);
        return tests.stream();
    }

    private static void runCase(String name, JsonNode c) {
        Sampler sampler = samplerFor(name, c);
        SamplingPlan plan = sampler.plan(c.get("num_inference_steps").asInt());

        assertArrayEquals(SchedulerGolden.floats(c.get("timesteps")), plan.timesteps(), name + ": timesteps");
        double sigmaErr = checkSigmas(name, c.get("sigmas"), plan);
        assertEquals(SchedulerGolden.f(c.get("init_noise_sigma")), plan.initNoiseSigma(),
                Math.abs(plan.initNoiseSigma()) * SIGMA_REL_TOL, name + ": init_noise_sigma");

        double maxErr = 0;
        try (NDManager manager = NDManager.newBaseManager(); SamplerState state = new SamplerState()) {
            RecordedNoise noise = new RecordedNoise();
            NDArray sample = plan.initialSample(golden.tensor(manager, golden.root.get("x_init")));
            JsonNode steps = c.get("steps");
            assertEquals(plan.size(), steps.size(), name + ": number of steps");
            for (JsonNode s : steps) {
                int i = s.get("index").asInt();
                String at = name + " step " + i;
                assertEquals(SchedulerGolden.f(s.get("t")), plan.timestep(i), at + ": t");
                assertEquals(SchedulerGolden.f(s.get("scale_model_input_factor")), plan.modelInputScale(i),
                        1e-7, at + ": scale_model_input factor");
                try (NDManager stepScope = manager.newSubManager()) {
                    NDArray modelInput = plan.scaleModelInput(i, sample);
                    modelInput.attach(stepScope);
                    maxErr = Math.max(maxErr, check(at + " model_input", s.get("model_input"), modelInput));
                    NDArray modelOutput = golden.syntheticModel(modelInput, plan.timestep(i));
                    maxErr = Math.max(maxErr, check(at + " model_output", s.get("model_output"), modelOutput));
                    JsonNode recorded = s.get("noise");
                    noise.set(at, recorded == null || recorded.isNull() ? null : SchedulerGolden.floats(recorded));
                    StepResult r = sampler.step(plan, i, modelOutput, sample, noise, state);
                    assertTrue(r.prevSample().getManager() == sample.getManager(), at + ": result manager");
                    maxErr = Math.max(maxErr, check(at + " prev_sample", s.get("prev_sample"), r.prevSample()));
                    for (String key : new String[] {"pred_original_sample", "denoised"}) {
                        if (s.hasNonNull(key)) {
                            maxErr = Math.max(maxErr, check(at + " " + key, s.get(key), r.denoised()));
                        }
                    }
                    r.denoised().close();
                    sample.close();
                    sample = r.prevSample();
                }
            }
            maxErr = Math.max(maxErr, check(name + " final_sample", c.get("final_sample"), sample));
        }
        worst = Math.max(worst, maxErr);
        SUMMARY.add(String.format("  %-42s max abs error %.3g, sigma rel error %.3g", name, maxErr, sigmaErr));
    }

    private static Sampler samplerFor(String name, JsonNode c) {
        String className = c.get("scheduler_class").asText();
        SamplerKind kind = SamplerKind.fromDiffusersClass(className)
                .orElseThrow(() -> new AssertionError(name + ": no sampler for " + className));
        JsonConfig json = new JsonConfig(name + " config", c.get("config"));
        SamplerOptions options = SamplerOptions.parse(json);
        for (Iterator<Map.Entry<String, JsonNode>> it = c.get("step_kwargs").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> kw = it.next();
            assertEquals("eta", kw.getKey(), name + ": unsupported step kwarg");
            options = options.withEta(kw.getValue().asDouble());
        }
        return kind.create(ScheduleConfig.parse(json), options);
    }

    /**
     * Each step on its own: the golden's input sample and stored model output go in, so any difference is the step
     * function's alone (the closed loop above also carries float32 sin differences of the synthetic model).
     */
    private static void runStepsInIsolation(String name, JsonNode c) {
        Sampler sampler = samplerFor(name, c);
        SamplingPlan plan = sampler.plan(c.get("num_inference_steps").asInt());
        double maxErr = 0;
        try (NDManager manager = NDManager.newBaseManager(); SamplerState state = new SamplerState()) {
            RecordedNoise noise = new RecordedNoise();
            NDArray sample = plan.initialSample(golden.tensor(manager, golden.root.get("x_init")));
            for (JsonNode s : c.get("steps")) {
                int i = s.get("index").asInt();
                String at = name + " isolated step " + i;
                JsonNode recorded = s.get("noise");
                noise.set(at, recorded == null || recorded.isNull() ? null : SchedulerGolden.floats(recorded));
                NDArray modelOutput = golden.tensor(manager, s.get("model_output"));
                StepResult r = sampler.step(plan, i, modelOutput, sample, noise, state);
                maxErr = Math.max(maxErr, check(at + " prev_sample", s.get("prev_sample"), r.prevSample()));
                sample = golden.tensor(manager, s.get("prev_sample"));
            }
        }
        worstIsolated = Math.max(worstIsolated, maxErr);
        SUMMARY.add(String.format("  %-42s stored model outputs: max abs error %.3g", name, maxErr));
    }

    private static double checkSigmas(String name, JsonNode expected, SamplingPlan plan) {
        if (expected == null || expected.isNull()) {
            assertFalse(plan.hasSigmas(), name + ": diffusers has no sigmas but the plan does");
            return 0;
        }
        float[] e = SchedulerGolden.floats(expected);
        float[] a = plan.sigmas();
        assertEquals(e.length, a.length, name + ": number of sigmas");
        double max = 0;
        for (int i = 0; i < e.length; i++) {
            double rel = Math.abs((double) e[i] - a[i]) / Math.max(Math.abs(e[i]), Float.MIN_NORMAL);
            max = Math.max(max, e[i] == a[i] ? 0 : rel);
        }
        assertTrue(max <= SIGMA_REL_TOL, name + ": sigmas differ, max relative error " + max);
        return max;
    }

    private static double check(String what, JsonNode expected, NDArray actual) {
        float[] e = SchedulerGolden.floats(expected);
        float[] a = actual.toFloatArray();
        assertEquals(e.length, a.length, what + ": size");
        double max = 0;
        for (int i = 0; i < e.length; i++) {
            double d = Math.abs((double) e[i] - a[i]);
            max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(max, d);
        }
        assertTrue(max <= atol, what + ": max abs error " + max + " exceeds " + atol);
        return max;
    }
}
