package dev.mdx.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.StateDictMismatchException;
import dev.mdx.nn.Module;
import dev.mdx.nn.Parameter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdamWTest {
    @TempDir
    Path tmp;

    static final class TwoParams extends Module {
        final Parameter a = parameter("a", 2, 3);
        final Parameter b = parameter("b", 3);
    }

    private static final AdamW.Settings SETTINGS = new AdamW.Settings(0.9, 0.999, 1e-8, 0.1);

    private static TwoParams model(NDManager m, float[] a, float[] b) {
        TwoParams t = new TwoParams();
        t.a.set(m.create(a, new Shape(2, 3)));
        t.b.set(m.create(b, new Shape(3)));
        return t;
    }

    private static float[] random(Random r, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) r.nextGaussian();
        }
        return out;
    }

    /** torch.optim.AdamW's update in plain double arithmetic, for one flat parameter. */
    static final class Reference {
        final double[] p;
        final double[] m;
        final double[] v;
        int t;

        Reference(float[] init) {
            p = new double[init.length];
            for (int i = 0; i < init.length; i++) {
                p[i] = init[i];
            }
            m = new double[init.length];
            v = new double[init.length];
        }

        void step(float[] g, double lr, AdamW.Settings s) {
            t++;
            double bc1 = 1 - Math.pow(s.beta1(), t);
            double bc2 = 1 - Math.pow(s.beta2(), t);
            for (int i = 0; i < p.length; i++) {
                p[i] *= 1 - lr * s.weightDecay();
                m[i] = s.beta1() * m[i] + (1 - s.beta1()) * g[i];
                v[i] = s.beta2() * v[i] + (1 - s.beta2()) * g[i] * g[i];
                double denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + s.eps();
                p[i] -= lr / bc1 * m[i] / denom;
            }
        }
    }

    private static double maxAbs(double[] expected, float[] actual) {
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i] - actual[i]));
        }
        return max;
    }

    @Test
    void matchesPlainJavaReferenceOverSeveralSteps() {
        Random r = new Random(42);
        float[] a0 = random(r, 6);
        float[] b0 = random(r, 3);
        double[] lrs = {0.1, 0.05, 0.02, 0.3};
        try (NDManager weights = NDManager.newBaseManager(); NDManager state = NDManager.newBaseManager()) {
            TwoParams model = model(weights, a0, b0);
            Map<String, Parameter> params = model.namedParameters();
            Reference refA = new Reference(a0);
            Reference refB = new Reference(b0);
            try (AdamW opt = new AdamW(SETTINGS, params, state)) {
                for (double lr : lrs) {
                    float[] ga = random(r, 6);
                    float[] gb = random(r, 3);
                    NDArray oldA = model.a.get();
                    try (NDManager scope = state.newSubManager()) {
                        Map<String, NDArray> grads = new LinkedHashMap<>();
                        grads.put("a", scope.create(ga, new Shape(2, 3)));
                        grads.put("b", scope.create(gb, new Shape(3)));
                        opt.step(params, grads, lr, scope);
                    }
                    refA.step(ga, lr, SETTINGS);
                    refB.step(gb, lr, SETTINGS);
                    double errA = maxAbs(refA.p, model.a.get().toFloatArray());
                    double errB = maxAbs(refB.p, model.b.get().toFloatArray());
                    double errM = maxAbs(refA.m, opt.stateTensors().get("exp_avg.a").toFloatArray());
                    double errV = maxAbs(refA.v, opt.stateTensors().get("exp_avg_sq.a").toFloatArray());
                    System.out.printf("AdamW step %d: max abs error a %.2e, b %.2e, m %.2e, v %.2e%n", refA.t,
                            errA, errB, errM, errV);
                    assertTrue(errA < 2e-6 && errB < 2e-6, "parameters: " + errA + ", " + errB);
                    assertTrue(errM < 1e-6 && errV < 1e-6, "moments: " + errM + ", " + errV);
                    assertTrue(oldA.isReleased(), "the replaced parameter array is closed");
                    assertTrue(model.a.get().getManager() == weights, "the new value stays in the weights' manager");
                    assertEquals(2, weights.getManagedArrays().size());
                }
                assertEquals(lrs.length, opt.stepCount());
            }
        }
    }

    @Test
    void savedStateContinuesBitIdentically() {
        Random r = new Random(3);
        float[] a0 = random(r, 6);
        float[] b0 = random(r, 3);
        float[][] grads = new float[4][];
        for (int i = 0; i < 4; i++) {
            grads[i] = random(r, 9);
        }
        Path file = tmp.resolve("optimizer.safetensors");
        try (NDManager weights = NDManager.newBaseManager(); NDManager state = NDManager.newBaseManager()) {
            TwoParams m1 = model(weights, a0, b0);
            TwoParams m2;
            try (AdamW opt1 = new AdamW(SETTINGS, m1.namedParameters(), state)) {
                step(opt1, m1, grads[0], state);
                step(opt1, m1, grads[1], state);
                opt1.save(file);
                m2 = model(weights, m1.a.get().toFloatArray(), m1.b.get().toFloatArray());
                try (AdamW opt2 = new AdamW(SETTINGS, m2.namedParameters(), state)) {
                    opt2.load(file);
                    assertEquals(2, opt2.stepCount());
                    for (int i = 2; i < 4; i++) {
                        step(opt1, m1, grads[i], state);
                        step(opt2, m2, grads[i], state);
                    }
                    assertArrayEquals(m1.a.get().toFloatArray(), m2.a.get().toFloatArray(), 0f);
                    assertArrayEquals(m1.b.get().toFloatArray(), m2.b.get().toFloatArray(), 0f);
                }
            }
        }
    }

    @Test
    void loadRejectsStateOfAnotherModel() {
        Path file = tmp.resolve("optimizer.safetensors");
        try (NDManager weights = NDManager.newBaseManager(); NDManager state = NDManager.newBaseManager()) {
            TwoParams m = model(weights, new float[6], new float[3]);
            try (AdamW opt = new AdamW(SETTINGS, m.namedParameters(), state)) {
                opt.save(file);
            }
            Map<String, Parameter> onlyA = new LinkedHashMap<>();
            onlyA.put("a", m.a);
            onlyA.put("c", m.b);
            try (AdamW other = new AdamW(SETTINGS, onlyA, state)) {
                StateDictMismatchException e = assertThrows(StateDictMismatchException.class, () -> other.load(file));
                assertEquals(java.util.List.of("exp_avg.c", "exp_avg_sq.c"), e.missing());
                assertEquals(java.util.List.of("exp_avg.b", "exp_avg_sq.b"), e.unexpected());
            }
        }
    }

    private static void step(AdamW opt, TwoParams model, float[] g, NDManager parent) {
        try (NDManager scope = parent.newSubManager()) {
            Map<String, NDArray> grads = new LinkedHashMap<>();
            grads.put("a", scope.create(java.util.Arrays.copyOfRange(g, 0, 6), new Shape(2, 3)));
            grads.put("b", scope.create(java.util.Arrays.copyOfRange(g, 6, 9), new Shape(3)));
            opt.step(model.namedParameters(), grads, 0.05, scope);
        }
    }
}
