package dev.mdx.train;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;

/** A child process for the shutdown test: trains the tiny problem for many steps into {@code args[0]}. */
public final class TinyTrainingMain {
    private TinyTrainingMain() {}

    public static void main(String[] args) {
        try (NDManager weights = NDManager.newBaseManager()) {
            TinyProblem.Mlp model = TinyProblem.model(weights, 11);
            TrainingConfig cfg = TrainingConfig.parse("child", TinyProblem.config(1_000_000,
                    ", \"checkpointing_steps\": 1000000"));
            try (Trainer<TinyProblem.Batch> t = Trainer.builder(model, TinyProblem.loss(model), TinyProblem.data(),
                    cfg, Path.of(args[0])).progress(System.out, false).build()) {
                t.run(args.length > 1 && args[1].equals("--resume"));
            }
        }
    }
}
