package dev.mdx.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Linear;
import dev.mdx.nn.Module;
import dev.mdx.tensor.Ops;
import java.util.Locale;

/**
 * A synthetic regression problem for trainer tests: y = tanh(x T) + 0.01 noise for a fixed teacher T, x ~ N(0, 1)
 * drawn from the run's generator, learned by a two-layer MLP. A 64-example "epoch" makes the position wrap.
 */
final class TinyProblem {
    static final int IN = 4;
    static final int HIDDEN = 16;
    static final int OUT = 2;
    static final int BATCH = 8;
    static final long EPOCH_SIZE = 64;

    private TinyProblem() {}

    /** Two linear layers with a SiLU between them; keys fc1.weight, fc1.bias, fc2.weight, fc2.bias. */
    static final class Mlp extends Module {
        final Linear fc1 = child("fc1", new Linear(IN, HIDDEN, true));
        final Linear fc2 = child("fc2", new Linear(HIDDEN, OUT, true));

        NDArray forward(NDArray x) {
            return fc2.forward(Ops.silu(fc1.forward(x)));
        }
    }

    record Batch(NDArray x, NDArray y) {}

    static Mlp model(NDManager weights, long seed) {
        Mlp m = new Mlp();
        StateDicts.initRandom(m, weights, seed);
        return m;
    }

    private static final float[] TEACHER = {0.9f, -0.4f, 0.3f, 0.7f, -0.6f, 0.2f, 0.5f, -0.8f};

    static BatchSource<Batch> data() {
        return (scope, position, rng) -> {
            NDArray x = rng.randn(scope, new Shape(BATCH, IN));
            NDArray teacher = scope.create(TEACHER, new Shape(IN, OUT));
            NDArray y = x.matMul(teacher).tanh().add(rng.randn(scope, new Shape(BATCH, OUT)).mul(0.01f));
            long index = position.index() + BATCH;
            DataPosition next = index >= EPOCH_SIZE ? new DataPosition(position.epoch() + 1, index - EPOCH_SIZE)
                    : new DataPosition(position.epoch(), index);
            return new BatchSource.Next<>(new Batch(x, y), next);
        };
    }

    /** MSE, with input jitter drawn from the step's generator so the loss also consumes randomness. */
    static LossFunction<Batch> loss(Mlp model) {
        return (batch, ctx) -> {
            NDArray jitter = ctx.rng().randn(ctx.scope(), batch.x().getShape()).mul(0.01f);
            NDArray pred = model.forward(batch.x().add(jitter));
            return pred.sub(batch.y()).square().mean();
        };
    }

    static String config(int steps, String extra) {
        return String.format(Locale.ROOT, """
                {"trainer": {"max_train_steps": %d, "learning_rate": 0.01, "lr_warmup_steps": 10,
                 "lr_min": 0.001, "adam_weight_decay": 0.01, "max_grad_norm": 0.5, "use_ema": true,
                 "ema_decay": 0.99, "ema_use_warmup": true, "seed": 1234, "checkpointing_steps": 25,
                 "checkpoints_total_limit": 2, "log_every": 1000%s},
                 "model": {"kind": "tiny-mlp"}}
                """, steps, extra);
    }
}
