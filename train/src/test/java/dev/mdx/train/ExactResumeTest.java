package dev.mdx.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.PrintStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 2k steps uninterrupted versus k steps, a stop with checkpoint, a restart with new objects loading from disk, and
 * k more steps: parameters, EMA, optimizer moments, generator state, data position and every logged loss must be
 * bit-identical. A leftover of an interrupted checkpoint write must be ignored.
 */
class ExactResumeTest {
    static final int K = 40;

    @TempDir
    Path tmp;

    /** Everything a run ends with, copied out of native memory. */
    record Snapshot(Map<String, float[]> values, long rngState, DataPosition position, long step) {}

    private static Snapshot snapshot(Trainer<?> t, TinyProblem.Mlp model) {
        Map<String, float[]> v = new LinkedHashMap<>();
        model.namedParameters().forEach((k, p) -> v.put("param." + k, p.get().toFloatArray()));
        t.ema().shadows().forEach((k, a) -> v.put("ema." + k, a.toFloatArray()));
        t.optimizer().stateTensors().forEach((k, a) -> v.put("adam." + k, a.toFloatArray()));
        return new Snapshot(v, t.rng().state(), t.position(), t.step());
    }

    private static Trainer<TinyProblem.Batch> trainer(TinyProblem.Mlp model, LossFunction<TinyProblem.Batch> loss,
            Path out) {
        TrainingConfig cfg = TrainingConfig.parse("test", TinyProblem.config(2 * K, ""));
        return Trainer.builder(model, loss, TinyProblem.data(), cfg, out)
                .progress(new PrintStream(new ByteArrayOutputStream()), false).build();
    }

    @Test
    void resumeIsBitIdenticalAndIgnoresAnInterruptedWrite() throws IOException {
        Path straight = tmp.resolve("straight");
        Path resumed = tmp.resolve("resumed");
        Snapshot expected;
        try (NDManager weights = NDManager.newBaseManager()) {
            TinyProblem.Mlp model = TinyProblem.model(weights, 11);
            try (Trainer<TinyProblem.Batch> t = trainer(model, TinyProblem.loss(model), straight)) {
                Trainer.Result r = t.run(false);
                assertEquals(2 * K, r.step());
                expected = snapshot(t, model);
            }
        }

        // First half: the loss asks for a stop during step K (as Ctrl-C would); the loop finishes the step and
        // writes a checkpoint at K, which is not a multiple of checkpointing_steps (25).
        try (NDManager weights = NDManager.newBaseManager()) {
            TinyProblem.Mlp model = TinyProblem.model(weights, 11);
            StopDuringStep<TinyProblem.Batch> stopping = new StopDuringStep<>(TinyProblem.loss(model), K - 1);
            try (Trainer<TinyProblem.Batch> t = trainer(model, stopping, resumed)) {
                stopping.attach(t);
                Trainer.Result r = t.run(false);
                assertTrue(r.stopped());
                assertEquals(K, r.step());
                assertEquals(K, r.checkpoint().orElseThrow().step());
            }
        }
        Checkpoints store = new Checkpoints(resumed, 2);
        assertEquals(List.of(25L, 40L), store.list().stream().map(Checkpoints.Checkpoint::step).toList());

        // An interrupted write of a later checkpoint: a hidden temporary folder with a half-written file, and a
        // half-written temporary weights file inside the newest real checkpoint.
        Path partial = store.root().resolve(".step-00000050.tmp-123");
        Files.createDirectories(partial);
        Files.write(partial.resolve(Checkpoints.MODEL), new byte[] {1, 2, 3});
        Files.writeString(partial.resolve(TrainerState.FILE), "{\"step\": 50", StandardCharsets.UTF_8);
        Files.write(store.root().resolve("step-00000040").resolve(".model.safetensors123.tmp"), new byte[] {9});

        // Restart: new model (other random weights), new loss, new trainer; all state comes from disk.
        try (NDManager weights = NDManager.newBaseManager()) {
            TinyProblem.Mlp model = TinyProblem.model(weights, 999);
            try (Trainer<TinyProblem.Batch> t = trainer(model, TinyProblem.loss(model), resumed)) {
                Trainer.Result r = t.run(true);
                assertFalse(r.stopped());
                assertEquals(2 * K, r.step());
                Snapshot actual = snapshot(t, model);
                assertEquals(expected.values().keySet(), actual.values().keySet());
                expected.values().forEach((k, e) -> {
                    float[] a = actual.values().get(k);
                    double maxAbs = 0;
                    for (int i = 0; i < e.length; i++) {
                        maxAbs = Math.max(maxAbs, Math.abs(e[i] - a[i]));
                    }
                    System.out.printf("resume %-28s max abs diff %.1e%n", k, maxAbs);
                    assertArrayEquals(e, a, 0f, k + " differs after resume");
                });
                assertEquals(expected.rngState(), actual.rngState(), "generator state");
                assertEquals(expected.position(), actual.position(), "data position");
            }
        }
        assertFalse(Files.exists(partial), "the partial checkpoint folder is removed on resume");

        List<String> a = lossColumn(straight);
        List<String> b = lossColumn(resumed);
        assertEquals(2 * K, a.size());
        assertEquals(a, b, "step, loss, lr and grad norm of every step");
        assertEquals(List.of(75L, 80L), store.list().stream().map(Checkpoints.Checkpoint::step).toList());
    }

    /** The CSV without the wall-clock column. */
    private static List<String> lossColumn(Path out) throws IOException {
        List<String> lines = Files.readAllLines(out.resolve(TrainingLog.FILE));
        return lines.subList(1, lines.size()).stream().map(l -> l.substring(0, l.lastIndexOf(','))).toList();
    }

    @Test
    void sameSeedSameRunDifferentSeedDifferentRun() {
        float[][] results = new float[3][];
        long[] seeds = {5, 5, 6};
        for (int i = 0; i < 3; i++) {
            Path out = tmp.resolve("run" + i);
            try (NDManager weights = NDManager.newBaseManager()) {
                TinyProblem.Mlp model = TinyProblem.model(weights, 11);
                TrainingConfig cfg = TrainingConfig.parse("test",
                        TinyProblem.config(10, "").replace("\"seed\": 1234", "\"seed\": " + seeds[i]));
                try (Trainer<TinyProblem.Batch> t = Trainer.builder(model, TinyProblem.loss(model),
                        TinyProblem.data(), cfg, out).progress(new PrintStream(new ByteArrayOutputStream()), false)
                        .build()) {
                    t.run(false);
                }
                NDArray w = model.namedParameters().get("fc2.weight").get();
                results[i] = w.toFloatArray();
            }
        }
        assertArrayEquals(results[0], results[1], 0f);
        assertFalse(java.util.Arrays.equals(results[0], results[2]));
    }
}
