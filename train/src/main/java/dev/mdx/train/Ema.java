package dev.mdx.train;

import dev.mdx.tensor.Scopes;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.StateDictMismatchException;
import dev.mdx.nn.Parameter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Exponential moving average of weights, as diffusers' {@code EMAModel}: after each optimizer step,
 * {@code shadow -= (1 - decay) * (shadow - param)} where the decay ramps up with the number of updates (so early,
 * noisy weights are forgotten quickly). Shadows live in this object's own manager and are updated in place.
 */
public final class Ema implements AutoCloseable {
    static final String STEP_KEY = "ema_optimization_step";

    /**
     * Names and defaults as in diffusers' EMAModel: {@code decay} is the maximum; with warmup the decay is
     * {@code 1 - (1 + n / invGamma)^-power}, without it {@code (1 + n) / (10 + n)}, where n counts updates after
     * {@code updateAfterStep}; the result is clamped to [minDecay, decay].
     */
    public record Settings(double decay, double minDecay, int updateAfterStep, boolean useWarmup, double invGamma,
            double power) {
        public Settings {
            if (!(decay >= 0 && decay <= 1) || !(minDecay >= 0 && minDecay <= decay)) {
                throw new IllegalArgumentException("need 0 <= min decay <= decay <= 1, got " + minDecay + ", "
                        + decay);
            }
            if (updateAfterStep < 0 || !(invGamma > 0) || !(power > 0)) {
                throw new IllegalArgumentException("need update_after_step >= 0, inv_gamma > 0, power > 0");
            }
        }

        /** The decay applied at the {@code optimizationStep}-th update (1-based). */
        public double decayAt(long optimizationStep) {
            long n = Math.max(0, optimizationStep - updateAfterStep - 1);
            if (n <= 0) {
                return 0.0;
            }
            double current = useWarmup ? 1 - Math.pow(1 + n / invGamma, -power) : (1.0 + n) / (10.0 + n);
            return Math.max(minDecay, Math.min(current, decay));
        }
    }

    private final Settings settings;
    private final NDManager manager;
    private final Map<String, NDArray> shadow = new LinkedHashMap<>();
    private long optimizationStep;

    /** Shadows start as copies of the current parameter values. */
    public Ema(Settings settings, Map<String, Parameter> params, NDManager parent) {
        this.settings = settings;
        this.manager = parent.newSubManager();
        params.forEach((key, p) -> {
            NDArray copy = p.get().duplicate();
            copy.attach(manager);
            shadow.put(key, copy);
        });
    }

    public Settings settings() {
        return settings;
    }

    public long optimizationStep() {
        return optimizationStep;
    }

    /** The averaged weights by parameter key, owned by this object. */
    public Map<String, NDArray> shadows() {
        return java.util.Collections.unmodifiableMap(shadow);
    }

    /** Moves every shadow towards the current parameter values; returns the decay used. */
    public double update(Map<String, Parameter> params, NDManager scope) {
        optimizationStep++;
        double decay = settings.decayAt(optimizationStep);
        float oneMinusDecay = (float) (1 - decay);
        shadow.forEach((key, s) -> {
            Parameter p = params.get(key);
            if (p == null) {
                throw new IllegalArgumentException("no parameter " + key + " for its EMA");
            }
            s.subi(Scopes.own(scope, s.sub(p.get())).muli(oneMinusDecay));
        });
        return decay;
    }

    /**
     * Puts the averaged weights into {@code params} until the returned handle is closed, which restores the raw
     * weights: {@code try (var ema = trainer.ema().swapInto(params)) { sample(...); }}.
     */
    public Swap swapInto(Map<String, Parameter> params) {
        Map<String, NDArray> raw = new LinkedHashMap<>();
        shadow.forEach((key, s) -> {
            Parameter p = params.get(key);
            raw.put(key, p.get());
            p.set(s);
        });
        return new Swap(params, raw);
    }

    /** Restores raw weights on close. */
    public static final class Swap implements AutoCloseable {
        private final Map<String, Parameter> params;
        private final Map<String, NDArray> raw;

        private Swap(Map<String, Parameter> params, Map<String, NDArray> raw) {
            this.params = params;
            this.raw = raw;
        }

        @Override
        public void close() {
            raw.forEach((key, a) -> params.get(key).set(a));
        }
    }

    /** Replaces the shadows and the update count with those saved in {@code file} (extra keys are allowed). */
    public void load(Path file) {
        try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
            List<String> missing = new ArrayList<>();
            List<String> misShaped = new ArrayList<>();
            shadow.forEach((k, a) -> {
                if (!st.contains(k)) {
                    missing.add(k);
                } else if (!st.info(k).shape().equals(a.getShape())) {
                    misShaped.add(k + ": file has " + st.info(k).shape() + ", parameter is " + a.getShape());
                }
            });
            if (!missing.isEmpty() || !misShaped.isEmpty()) {
                throw new StateDictMismatchException(file.toString(), missing, List.of(), misShaped);
            }
            String saved = st.metadata().get(STEP_KEY);
            if (saved == null || !saved.matches("\\d{1,18}")) {
                throw new ModelFormatException(file + ": EMA weights have no valid '" + STEP_KEY + "' metadata");
            }
            shadow.replaceAll((k, old) -> {
                NDArray loaded = st.load(k, manager);
                old.close();
                return loaded;
            });
            optimizationStep = Long.parseLong(saved);
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
