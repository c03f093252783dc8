package dev.mdx.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trainer with two phases (fc1, fc2 of the tiny MLP, as generator and discriminator would be): a step changes only
 * its phase's parameters, each phase has its own optimizer state, the EMA follows phase 0, and resume is exact.
 */
class PhasedTrainerTest {
    static final int K = 20;

    @TempDir
    Path tmp;

    static List<TrainingPhase> phases() {
        return List.of(new TrainingPhase("first", k -> k.startsWith("fc1."), new AdamW.Settings(0.9, 0.999, 1e-8, 0.01), 1),
                new TrainingPhase("second", k -> k.startsWith("fc2."), new AdamW.Settings(0.0, 0.99, 1e-8, 0.0), 0.5));
    }

    static final TrainingPhase.Schedule SCHEDULE = TrainingPhase.Schedule.cycle(1, 0, 0);

    private static Map<String, float[]> params(TinyProblem.Mlp model) {
        Map<String, float[]> v = new LinkedHashMap<>();
        model.namedParameters().forEach((k, p) -> v.put(k, p.get().toFloatArray()));
        return v;
    }

    @Test
    void eachStepChangesOnlyItsPhaseParameters() {
        try (NDManager weights = NDManager.newBaseManager()) {
            TinyProblem.Mlp model = TinyProblem.model(weights, 11);
            List<Map<String, float[]>> before = new ArrayList<>();
            List<Integer> seen = new ArrayList<>();
            LossFunction<TinyProblem.Batch> inner = TinyProblem.loss(model);
            LossFunction<TinyProblem.Batch> recording = (batch, ctx) -> {
                before.add(params(model));
                seen.add(ctx.phase());
                return inner.loss(batch, ctx);
            };
            TrainingConfig cfg = TrainingConfig.parse("test", TinyProblem.config(4, ""));
            try (Trainer<TinyProblem.Batch> t = Trainer.builder(model, recording, TinyProblem.data(), cfg, tmp)
                    .phases(phases(), SCHEDULE).progress(new PrintStream(new ByteArrayOutputStream()), false)
                    .shutdownHook(false).build()) {
                t.run(false);
                assertEquals(List.of(1, 0, 0, 1), seen);
                before.add(params(model));
                for (int s = 0; s < 4; s++) {
                    String trained = seen.get(s) == 0 ? "fc1." : "fc2.";
                    for (String k : before.get(s).keySet()) {
                        boolean changed = !Arrays.equals(before.get(s).get(k), before.get(s + 1).get(k));
                        assertEquals(k.startsWith(trained), changed, "step " + s + " key " + k);
                    }
                }
                assertEquals(2, t.optimizer(0).stepCount());
                assertEquals(2, t.optimizer(1).stepCount());
                assertEquals(List.of("fc1.weight", "fc1.bias"), List.copyOf(t.ema().shadows().keySet()));
                assertTrue(Files.isRegularFile(tmp.resolve("checkpoints/step-00000004/optimizer-second.safetensors")));
            }
        }
    }

    private static Map<String, float[]> snapshot(Trainer<?> t, TinyProblem.Mlp model) {
        Map<String, float[]> v = new LinkedHashMap<>();
        params(model).forEach((k, a) -> v.put("param." + k, a));
        t.ema().shadows().forEach((k, a) -> v.put("ema." + k, a.toFloatArray()));
        for (int i = 0; i < 2; i++) {
            int phase = i;
            t.optimizer(i).stateTensors().forEach((k, a) -> v.put("adam" + phase + "." + k, a.toFloatArray()));
        }
        return v;
    }

    private Trainer<TinyProblem.Batch> trainer(TinyProblem.Mlp model, LossFunction<TinyProblem.Batch> loss, Path out) {
        TrainingConfig cfg = TrainingConfig.parse("test", TinyProblem.config(2 * K, ""));
        return Trainer.builder(model, loss, TinyProblem.data(), cfg, out).phases(phases(), SCHEDULE)
                .progress(new PrintStream(new ByteArrayOutputStream()), false).shutdownHook(false).build();
    }

    @Test
    void resumeWithPhasesIsExact() {
        Map<String, float[]> expected;
        try (NDManager weights = NDManager.newBaseManager()) {
            TinyProblem.Mlp model = TinyProblem.model(weights, 11);
            try (Trainer<TinyProblem.Batch> t = trainer(model, TinyProblem.loss(model), tmp.resolve("a"))) {
                t.run(false);
                expected = snapshot(t, model);
            }
        }
        try (NDManager weights = NDManager.newBaseManager()) {
            TinyProblem.Mlp model = TinyProblem.model(weights, 11);
            StopDuringStep<TinyProblem.Batch> stopping = new StopDuringStep<>(TinyProblem.loss(model), K - 1);
            try (Trainer<TinyProblem.Batch> t = trainer(model, stopping, tmp.resolve("b"))) {
                stopping.attach(t);
                assertTrue(t.run(false).stopped());
            }
        }
        try (NDManager weights = NDManager.newBaseManager()) {
            TinyProblem.Mlp model = TinyProblem.model(weights, 999);
            try (Trainer<TinyProblem.Batch> t = trainer(model, TinyProblem.loss(model), tmp.resolve("b"))) {
                assertFalse(t.run(true).stopped());
                Map<String, float[]> actual = snapshot(t, model);
                assertEquals(expected.keySet(), actual.keySet());
                expected.forEach((k, e) -> assertArrayEquals(e, actual.get(k), 0f, k + " differs after resume"));
            }
        }
    }
}
