package dev.mdx.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.MdxException;
import dev.mdx.bench.ResidentMemory;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Linear;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    @TempDir
    Path tmp;

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    static List<double[]> csv(Path outDir) throws IOException {
        List<String> lines = Files.readAllLines(outDir.resolve(TrainingLog.FILE));
        assertEquals(TrainingLog.HEADER, lines.get(0));
        List<double[]> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",");
            double[] row = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                row[i] = Double.parseDouble(f[i]);
            }
            rows.add(row);
        }
        return rows;
    }

    @Test
    void lossFallsOnTinyProblem() throws IOException {
        int steps = 300;
        try (NDManager weights = NDManager.newBaseManager()) {
            TinyProblem.Mlp model = TinyProblem.model(weights, 7);
            TrainingConfig cfg = TrainingConfig.parse("test", TinyProblem.config(steps, ""));
            long t0 = System.nanoTime();
            try (Trainer<TinyProblem.Batch> trainer = Trainer.builder(model, TinyProblem.loss(model),
                    TinyProblem.data(), cfg, tmp).progress(System.out, false).build()) {
                Trainer.Result r = trainer.run(false);
                assertEquals(steps, r.step());
                assertFalse(r.stopped());
            }
            List<double[]> rows = csv(tmp);
            assertEquals(steps, rows.size());
            double first = rows.get(0)[1];
            double last = rows.subList(steps - 20, steps).stream().mapToDouble(r -> r[1]).average().orElseThrow();
            System.out.printf("loss: first %.5f, mean of last 20 %.5f (ratio %.4f), %d steps in %.2f s%n", first,
                    last, last / first, steps, (System.nanoTime() - t0) / 1e9);
            assertTrue(last < 0.1 * first, "loss " + first + " -> " + last);
            for (int i = 0; i < steps; i++) {
                assertEquals(i + 1, (long) rows.get(i)[0], "CSV step column");
            }
            // the run ends at 300: checkpoints at 275 and 300 are kept (limit 2), 250 was pruned
            List<Long> kept = new Checkpoints(tmp, 2).list().stream().map(Checkpoints.Checkpoint::step).toList();
            assertEquals(List.of(275L, 300L), kept);
            assertTrue(Files.isRegularFile(tmp.resolve(Trainer.CONFIG_FILE)));
        }
    }

    /** DJL's PyTorch engine accumulates gradients across backward passes; the trainer must not. */
    @Test
    void gradientsDoNotAccumulateAcrossSteps() throws IOException {
        try (NDManager weights = NDManager.newBaseManager()) {
            Linear layer = new Linear(3, 1, false);
            StateDicts.initRandom(layer, weights, 1);
            // loss = sum(W x) with x = (1, 2, 3): the gradient is x at every step, norm sqrt(14)
            LossFunction<NDArray> loss = (x, ctx) -> layer.forward(x).sum();
            BatchSource<NDArray> data = (scope, pos, rng) -> new BatchSource.Next<>(
                    scope.create(new float[] {1, 2, 3}, new Shape(1, 3)), new DataPosition(0, pos.index() + 1));
            TrainingConfig cfg = TrainingConfig.parse("test", """
                    {"trainer": {"max_train_steps": 5, "max_grad_norm": 0, "use_ema": false}}""");
            try (Trainer<NDArray> trainer = Trainer.builder(layer, loss, data, cfg, tmp).progress(quiet(), false)
                    .build()) {
                trainer.run(false);
                assertEquals(new DataPosition(0, 5), trainer.position());
            }
            for (double[] row : csv(tmp)) {
                assertEquals(Math.sqrt(14), row[3], 1e-6, "grad norm at step " + (long) row[0]);
            }
        }
    }

    /** Array counts in every manager stay constant over 500 steps; resident memory is printed for the record. */
    @Test
    void memoryStaysFlat() {
        int steps = 500;
        try (NDManager weights = NDManager.newBaseManager()) {
            TinyProblem.Mlp model = TinyProblem.model(weights, 3);
            TrainingConfig cfg = TrainingConfig.parse("test", TinyProblem.config(steps, ", \"sample_every\": 50"));
            List<int[]> counts = new ArrayList<>();
            List<Long> rss = new ArrayList<>();
            Trainer<TinyProblem.Batch>[] self = new Trainer[1];
            TrainingHook hook = ctx -> {
                counts.add(new int[] {weights.getManagedArrays().size(),
                        self[0].manager().getManagedArrays().size(),
                        ctx.model().namedParameters().size()});
                System.gc(); // so the printed RSS reflects native memory, not uncollected heap garbage
                rss.add(ResidentMemory.currentBytes());
            };
            try (Trainer<TinyProblem.Batch> trainer = Trainer.builder(model, TinyProblem.loss(model),
                    TinyProblem.data(), cfg, tmp).hook(hook).progress(quiet(), false).build()) {
                self[0] = trainer;
                trainer.run(false);
                assertEquals(steps, trainer.step());
            }
            assertEquals(steps / 50, counts.size());
            System.out.printf("arrays (weights, trainer state): %d, %d at step 50; %d, %d at step 500; RSS %d MB ->"
                    + " %d MB%n", counts.get(0)[0], counts.get(0)[1], counts.get(counts.size() - 1)[0],
                    counts.get(counts.size() - 1)[1], rss.get(0) >> 20, rss.get(rss.size() - 1) >> 20);
            for (int[] c : counts) {
                assertEquals(4, c[0], "weights manager holds exactly the 4 parameters");
                // optimizer: 2 moments x 4; EMA: 4 shadows; the hook's scope is empty
                assertEquals(12, c[1], "trainer state arrays");
            }
        }
    }

    @Test
    void refusesToOverwriteARunWithoutResume() {
        try (NDManager weights = NDManager.newBaseManager()) {
            TinyProblem.Mlp model = TinyProblem.model(weights, 3);
            TrainingConfig cfg = TrainingConfig.parse("test", TinyProblem.config(5, ""));
            try (Trainer<TinyProblem.Batch> t = Trainer.builder(model, TinyProblem.loss(model), TinyProblem.data(),
                    cfg, tmp).progress(quiet(), false).build()) {
                t.run(false);
            }
            try (Trainer<TinyProblem.Batch> t = Trainer.builder(model, TinyProblem.loss(model), TinyProblem.data(),
                    cfg, tmp).progress(quiet(), false).build()) {
                MdxException e = assertThrows(MdxException.class, () -> t.run(false));
                assertTrue(e.getMessage().contains("already holds checkpoints (newest: step 5)"), e.getMessage());
            }
        }
    }

    /** A diverging run is the settings' fault (learning rate, clipping): a user error, not an internal one. */
    @Test
    void aNonFiniteLossIsAUserError() {
        try (NDManager weights = NDManager.newBaseManager()) {
            TinyProblem.Mlp model = TinyProblem.model(weights, 3);
            LossFunction<TinyProblem.Batch> mse = TinyProblem.loss(model);
            LossFunction<TinyProblem.Batch> nan = (batch, ctx) -> mse.loss(batch, ctx).mul(Float.NaN);
            TrainingConfig cfg = TrainingConfig.parse("test", TinyProblem.config(5, ""));
            try (Trainer<TinyProblem.Batch> t = Trainer.builder(model, nan, TinyProblem.data(), cfg, tmp)
                    .progress(quiet(), false).build()) {
                MdxException e = assertThrows(MdxException.class, () -> t.run(false));
                assertTrue(e.getMessage().startsWith("loss is NaN at step 1: training diverged"), e.getMessage());
            }
        }
    }

    /** A checkpoint whose optimizer state disagrees with its step is a damaged file, named as such. */
    @Test
    void resumingFromAnInconsistentCheckpointNamesIt() throws IOException {
        try (NDManager weights = NDManager.newBaseManager()) {
            TinyProblem.Mlp model = TinyProblem.model(weights, 3);
            TrainingConfig cfg = TrainingConfig.parse("test", TinyProblem.config(5, ""));
            Trainer.Result first;
            try (Trainer<TinyProblem.Batch> t = Trainer.builder(model, TinyProblem.loss(model), TinyProblem.data(),
                    cfg, tmp).progress(quiet(), false).build()) {
                first = t.run(false);
            }
            Path state = first.checkpoint().orElseThrow().state();
            Files.writeString(state, Files.readString(state).replace("\"step\" : 5", "\"step\" : 4"));
            try (Trainer<TinyProblem.Batch> t = Trainer.builder(model, TinyProblem.loss(model), TinyProblem.data(),
                    cfg, tmp).progress(quiet(), false).build()) {
                ModelFormatException e = assertThrows(ModelFormatException.class, () -> t.run(true));
                assertTrue(e.getMessage().contains("optimizer state is at step 5 but the checkpoint at step 4"),
                        e.getMessage());
            }
        }
    }

    @Test
    void hookSeesEmaWeightsAndADerivedGenerator() {
        try (NDManager weights = NDManager.newBaseManager()) {
            TinyProblem.Mlp model = TinyProblem.model(weights, 3);
            TrainingConfig cfg = TrainingConfig.parse("test", TinyProblem.config(20, ", \"sample_every\": 10"));
            List<Long> steps = new ArrayList<>();
            TrainingHook hook = ctx -> {
                steps.add(ctx.step());
                NDArray raw = ctx.model().namedParameters().get("fc1.weight").get();
                NDArray inside = ctx.withEmaWeights(() -> ctx.model().namedParameters().get("fc1.weight").get());
                assertTrue(inside == ctx.ema().shadows().get("fc1.weight"), "EMA weights swapped in");
                assertTrue(raw == ctx.model().namedParameters().get("fc1.weight").get(), "raw weights restored");
                assertNotEquals(ctx.rng().state(), Rng.derived(1234, Trainer.SAMPLE_STREAM, ctx.step() + 1).state());
            };
            try (Trainer<TinyProblem.Batch> t = Trainer.builder(model, TinyProblem.loss(model), TinyProblem.data(),
                    cfg, tmp).hook(hook).progress(quiet(), false).build()) {
                t.run(false);
            }
            assertEquals(List.of(10L, 20L), steps);
        }
    }
}
