package dev.mdx.train;

import dev.mdx.tensor.Scopes;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.io.StateDictMismatchException;
import dev.mdx.nn.Parameter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter 2019) exactly as torch.optim.AdamW computes it: decoupled weight decay
 * {@code p *= 1 - lr*wd}, moments {@code m = b1 m + (1-b1) g}, {@code v = b2 v + (1-b2) g^2}, then
 * {@code p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)}.
 *
 * <p>Moments live in this optimizer's own manager and are updated in place. Parameters are updated by
 * replacement: the new value is attached to the old value's manager and the old array is closed, which also frees
 * its accumulated gradient (DJL's PyTorch engine never zeroes gradients, so a fresh leaf each step is how
 * gradients are reset, like {@code zero_grad(set_to_none=True)}).
 */
public final class AdamW implements AutoCloseable {
    static final String EXP_AVG = "exp_avg.";
    static final String EXP_AVG_SQ = "exp_avg_sq.";
    static final String STEP_KEY = "step";

    /** Hyper-parameters; names as in torch.optim.AdamW. */
    public record Settings(double beta1, double beta2, double eps, double weightDecay) {
        public Settings {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("betas must be in [0, 1), got " + beta1 + ", " + beta2);
            }
            if (!(eps > 0) || !(weightDecay >= 0)) {
                throw new IllegalArgumentException("eps must be > 0 and weight decay >= 0, got " + eps + ", "
                        + weightDecay);
            }
        }
    }

    private final Settings settings;
    private final NDManager manager;
    private final Map<String, NDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, NDArray> expAvgSq = new LinkedHashMap<>();
    private long step;

    /** Zero moments shaped like {@code params}, owned by a new manager under {@code parent}. */
    public AdamW(Settings settings, Map<String, Parameter> params, NDManager parent) {
        this.settings = settings;
        this.manager = parent.newSubManager();
        params.forEach((key, p) -> {
            expAvg.put(key, manager.zeros(p.shape()));
            expAvgSq.put(key, manager.zeros(p.shape()));
        });
    }

    public Settings settings() {
        return settings;
    }

    /** Number of updates made so far ({@code t} of the bias correction). */
    public long stepCount() {
        return step;
    }

    /**
     * One update of every parameter in {@code params} with its gradient from {@code grads}; temporaries in
     * {@code scope}.
     */
    public void step(Map<String, Parameter> params, Map<String, NDArray> grads, double lr, NDManager scope) {
        step++;
        double b1 = settings.beta1();
        double b2 = settings.beta2();
        double bias1 = 1 - Math.pow(b1, step);
        double bias2Sqrt = Math.sqrt(1 - Math.pow(b2, step));
        float stepSize = (float) (lr / bias1);
        float decay = (float) (1 - lr * settings.weightDecay());
        params.forEach((key, param) -> {
            NDArray g = grads.get(key);
            NDArray m = expAvg.get(key);
            NDArray v = expAvgSq.get(key);
            if (g == null || m == null) {
                throw new IllegalArgumentException("no " + (g == null ? "gradient" : "optimizer state")
                        + " for parameter " + key);
            }
            m.muli((float) b1).addi(Scopes.own(scope, g.mul((float) (1 - b1))));
            v.muli((float) b2).addi(Scopes.own(scope, g.square()).muli((float) (1 - b2)));
            NDArray denom = Scopes.own(scope, v.sqrt()).divi((float) bias2Sqrt).addi((float) settings.eps());
            NDArray update = Scopes.own(scope, m.div(denom)).muli(stepSize);
            NDArray old = param.get();
            NDArray next = Scopes.own(scope, old.mul(decay)).subi(update);
            next.attach(old.getManager());
            param.set(next);
            old.close();
        });
    }

    /** The state as tensors: {@code exp_avg.KEY} and {@code exp_avg_sq.KEY} for every parameter. */
    public Map<String, NDArray> stateTensors() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        expAvg.forEach((k, a) -> out.put(EXP_AVG + k, a));
        expAvgSq.forEach((k, a) -> out.put(EXP_AVG_SQ + k, a));
        return out;
    }

    public void save(Path file) {
        SafeTensorsWriter.write(file, stateTensors(), Map.of(STEP_KEY, Long.toString(step),
                "optimizer", "AdamW"));
    }

    /** Replaces the state with the one saved in {@code file}; every key must match these parameters. */
    public void load(Path file) {
        try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
            Map<String, NDArray> current = stateTensors();
            List<String> missing = new ArrayList<>();
            List<String> misShaped = new ArrayList<>();
            current.forEach((k, a) -> {
                if (!st.contains(k)) {
                    missing.add(k);
                } else if (!st.info(k).shape().equals(a.getShape())) {
                    misShaped.add(k + ": file has " + st.info(k).shape() + ", parameter is " + a.getShape());
                }
            });
            List<String> unexpected = st.tensors().keySet().stream().filter(k -> !current.containsKey(k)).toList();
            if (!missing.isEmpty() || !unexpected.isEmpty() || !misShaped.isEmpty()) {
                throw new StateDictMismatchException(file.toString(), missing, unexpected, misShaped);
            }
            String savedStep = st.metadata().get(STEP_KEY);
            if (savedStep == null || !savedStep.matches("\\d{1,18}")) {
                throw new ModelFormatException(file + ": optimizer state has no valid '" + STEP_KEY + "' metadata");
            }
            replaceAll(expAvg, EXP_AVG, st);
            replaceAll(expAvgSq, EXP_AVG_SQ, st);
            step = Long.parseLong(savedStep);
        }
    }

    private void replaceAll(Map<String, NDArray> target, String prefix, SafeTensorsFile st) {
        target.replaceAll((k, old) -> {
            NDArray loaded = st.load(prefix + k, manager);
            old.close();
            return loaded;
        });
    }

    @Override
    public void close() {
        manager.close();
    }
}
