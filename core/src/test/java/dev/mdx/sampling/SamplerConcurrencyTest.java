package dev.mdx.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.JsonConfig;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.tensor.NoiseSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * One sampler instance, two runs with different step counts: interleaved step by step or on two threads, each run
 * must give exactly what it gives alone. Also the contract around plans, states and memory.
 */
class SamplerConcurrencyTest {
    private static final Shape SHAPE = new Shape(1, 4, 8, 8);
    private static final ScheduleConfig CONFIG = ScheduleConfig.parse(JsonConfig.parse("sd15",
            "{\"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085, \"beta_end\": 0.012, \"steps_offset\": 1,"
                    + " \"clip_sample\": false, \"set_alpha_to_one\": false}"));
    private static final int STEPS_A = 8;
    private static final int STEPS_B = 25;

    /** A run in progress: its own plan, state, noise and sample. */
    private static final class Run implements AutoCloseable {
        final Sampler sampler;
        final SamplingPlan plan;
        final SamplerState state = new SamplerState();
        final NoiseSource noise;
        final NDManager manager = NDManager.newBaseManager();
        NDArray sample;
        int next;

        Run(Sampler sampler, int steps, long seed) {
            this.sampler = sampler;
            this.plan = sampler.plan(steps);
            this.noise = NoiseSource.seeded(seed);
            this.sample = plan.initialSample(noise.gaussian(manager, SHAPE));
        }

        boolean done() {
            return next == plan.size();
        }

        void step() {
            try (NDManager scope = manager.newSubManager()) {
                NDArray input = plan.scaleModelInput(next, sample);
                input.attach(scope);
                NDArray output = input.mul(0.6f).add(input.sin().mul(0.4f)).add(plan.timestep(next) * 1e-3f);
                StepResult r = sampler.step(plan, next, output, sample, noise, state);
                r.denoised().close();
                sample.close();
                sample = r.prevSample();
            }
            next++;
        }

        float[] finish() {
            while (!done()) {
                step();
            }
            return sample.toFloatArray();
        }

        @Override
        public void close() {
            state.close();
            manager.close();
        }
    }

    private static float[] alone(Sampler sampler, int steps, long seed) {
        try (Run run = new Run(sampler, steps, seed)) {
            return run.finish();
        }
    }

    @Test
    void interleavedRunsMatchRunsAlone() {
        for (SamplerKind kind : SamplerKind.values()) {
            Sampler sampler = kind.create(CONFIG);
            float[] expectedA = alone(sampler, STEPS_A, 1);
            float[] expectedB = alone(sampler, STEPS_B, 2);
            try (Run a = new Run(sampler, STEPS_A, 1); Run b = new Run(sampler, STEPS_B, 2)) {
                while (!a.done() || !b.done()) {
                    if (!a.done()) {
                        a.step();
                    }
                    if (!b.done()) {
                        b.step();
                    }
                }
                assertArrayEquals(expectedA, a.sample.toFloatArray(), kind + " run A interleaved");
                assertArrayEquals(expectedB, b.sample.toFloatArray(), kind + " run B interleaved");
            }
            assertFalse(Float.isNaN(expectedA[0]) || Float.isNaN(expectedB[0]), kind + " finite");
        }
    }

    @Test
    void concurrentThreadsMatchRunsAlone() throws Exception {
        Sampler sampler = SamplerKind.DPMPP_2M.create(CONFIG.withKarrasSigmas(true));
        float[] expectedA = alone(sampler, STEPS_A, 3);
        float[] expectedB = alone(sampler, STEPS_B, 4);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int repeat = 0; repeat < 3; repeat++) {
                Future<float[]> a = pool.submit(() -> alone(sampler, STEPS_A, 3));
                Future<float[]> b = pool.submit(() -> alone(sampler, STEPS_B, 4));
                assertArrayEquals(expectedA, a.get(), "thread A");
                assertArrayEquals(expectedB, b.get(), "thread B");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void stepsLeaveOnlyTheirResultsBehind() {
        Sampler sampler = SamplerKind.DPMPP_2M.create(CONFIG);
        try (Run run = new Run(sampler, STEPS_B, 5)) {
            int before = run.manager.getManagedArrays().size();
            while (!run.done()) {
                run.step();
            }
            assertEquals(before, run.manager.getManagedArrays().size(), "arrays owned by the run's manager");
        }
    }

    @Test
    void misuseIsReported() {
        Sampler ddim = SamplerKind.DDIM.create(CONFIG);
        Sampler other = SamplerKind.DDIM.create(CONFIG);
        SamplingPlan plan = ddim.plan(4);
        try (NDManager m = NDManager.newBaseManager(); SamplerState state = new SamplerState()) {
            NDArray x = m.ones(SHAPE);
            assertThrows(IllegalArgumentException.class, () -> other.step(plan, 0, x, x, null, state), "foreign plan");
            assertThrows(IndexOutOfBoundsException.class, () -> ddim.step(plan, 4, x, x, null, state), "index");
            ddim.step(plan, 0, x, x, null, state);
            assertThrows(IllegalStateException.class, () -> ddim.step(plan, 2, x, x, null, state), "skipped step");
            assertThrows(IllegalStateException.class, () -> ddim.step(ddim.plan(4), 1, x, x, null, state),
                    "state of another run");
            assertThrows(IllegalArgumentException.class,
                    () -> SamplerKind.DDPM.create(CONFIG).step(SamplerKind.DDPM.create(CONFIG).plan(2), 0, x, x, null,
                            new SamplerState()), "foreign plan for DDPM");
            Sampler ddpm = SamplerKind.DDPM.create(CONFIG);
            assertThrows(IllegalArgumentException.class,
                    () -> ddpm.step(ddpm.plan(2), 0, x, x, null, new SamplerState()), "DDPM needs noise");
        }
        List<String> names = new ArrayList<>();
        for (SamplerKind k : SamplerKind.values()) {
            names.add(k.cliName());
            assertEquals(k, SamplerKind.fromCliName(k.cliName().toUpperCase()));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SamplerKind.fromCliName("plms"));
        assertFalse(names.stream().anyMatch(n -> !e.getMessage().contains(n)), "message lists the samplers");
    }
}
