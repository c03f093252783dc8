package dev.mdx.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.io.StateDictMismatchException;
import dev.mdx.nn.Module;
import dev.mdx.nn.Parameter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmaTest {
    @TempDir
    Path tmp;

    static final class One extends Module {
        final Parameter w = parameter("w", 4);
    }

    @Test
    void decayScheduleFollowsDiffusersEmaModel() {
        Ema.Settings plain = new Ema.Settings(0.5, 0.0, 0, false, 1.0, 2.0 / 3.0);
        assertEquals(0.0, plain.decayAt(1), "the first update copies the weights");
        assertEquals(2.0 / 11.0, plain.decayAt(2), 1e-15);
        assertEquals(4.0 / 13.0, plain.decayAt(4), 1e-15);
        assertEquals(0.5, plain.decayAt(100), "clamped to the maximum decay");
        Ema.Settings warm = new Ema.Settings(0.9999, 0.0, 0, true, 1.0, 2.0 / 3.0);
        assertEquals(1 - Math.pow(3, -2.0 / 3.0), warm.decayAt(3), 1e-15);
        assertEquals(0.9999, warm.decayAt(100_000_000L), 1e-15);
        Ema.Settings late = new Ema.Settings(0.9, 0.2, 5, false, 1.0, 2.0 / 3.0);
        assertEquals(0.0, late.decayAt(6), "no averaging until update_after_step has passed");
        assertEquals(0.2, late.decayAt(7), "raised to the minimum decay");
        assertEquals(3.0 / 12.0, late.decayAt(8), 1e-15);
    }

    @Test
    void updateMatchesHandComputation() {
        float[][] values = {{1, -2, 3, 0.5f}, {2, 0, 1, -1}, {0, 4, -3, 2}, {1.5f, 1, 1, 1}};
        Ema.Settings s = new Ema.Settings(0.9, 0.0, 0, false, 1.0, 2.0 / 3.0);
        try (NDManager weights = NDManager.newBaseManager(); NDManager state = NDManager.newBaseManager()) {
            One model = new One();
            model.w.set(weights.create(values[0]));
            Map<String, Parameter> params = model.namedParameters();
            double[] expected = {1, -2, 3, 0.5};
            try (Ema ema = new Ema(s, params, state)) {
                for (int t = 1; t < values.length; t++) {
                    model.w.get().close();
                    model.w.set(weights.create(values[t]));
                    double d;
                    try (NDManager scope = state.newSubManager()) {
                        d = ema.update(params, scope);
                    }
                    assertEquals(s.decayAt(t), d);
                    for (int i = 0; i < 4; i++) {
                        expected[i] -= (1 - d) * (expected[i] - values[t][i]);
                    }
                    float[] actual = ema.shadows().get("w").toFloatArray();
                    double err = 0;
                    for (int i = 0; i < 4; i++) {
                        err = Math.max(err, Math.abs(expected[i] - actual[i]));
                    }
                    System.out.printf("EMA update %d (decay %.4f): max abs error %.2e%n", t, d, err);
                    assertTrue(err < 1e-6, "EMA after update " + t + ": " + err);
                    assertEquals(1, state.getManagedArrays().size(), "only the shadow remains after the step");
                }
                assertEquals(3, ema.optimizationStep());

                NDArray raw = model.w.get();
                try (Ema.Swap swap = ema.swapInto(params)) {
                    assertSame(ema.shadows().get("w"), model.w.get());
                }
                assertSame(raw, model.w.get());
            }
        }
    }

    @Test
    void loadNamesMissingKeysAndRequiresTheStepCount() {
        try (NDManager weights = NDManager.newBaseManager(); NDManager state = NDManager.newBaseManager()) {
            One model = new One();
            model.w.set(weights.zeros(new Shape(4)));
            try (Ema ema = new Ema(new Ema.Settings(0.9, 0, 0, false, 1, 1), model.namedParameters(), state)) {
                Path wrongKey = tmp.resolve("a.safetensors");
                SafeTensorsWriter.write(wrongKey, Map.of("v", weights.zeros(new Shape(4))), Map.of());
                StateDictMismatchException e = assertThrows(StateDictMismatchException.class,
                        () -> ema.load(wrongKey));
                assertEquals(java.util.List.of("w"), e.missing());
                Path noStep = tmp.resolve("b.safetensors");
                SafeTensorsWriter.write(noStep, Map.of("w", weights.ones(new Shape(4))), Map.of());
                RuntimeException e2 = assertThrows(RuntimeException.class, () -> ema.load(noStep));
                assertTrue(e2.getMessage().contains(Ema.STEP_KEY), e2.getMessage());
            }
        }
    }
}
