package dev.mdx.sampling;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.schedule.JsonNamed;
import dev.mdx.schedule.ScheduleConfig;
import java.nio.file.Path;

/**
 * Solver-specific settings: the keys of a diffusers scheduler_config.json that belong to one solver rather than to
 * the noise schedule, plus DDIM's eta (a step argument in diffusers). Values we do not implement are rejected with
 * a message naming the field, rather than silently sampling differently.
 *
 * @param eta DDIM's eta: 0 is the deterministic DDIM, 1 the DDPM-like posterior variance
 * @param solverOrder DPM-Solver++ order, 1 or 2
 * @param lowerOrderFinal DPM-Solver++: first order on the last step when there are fewer than 15 steps
 * @param eulerAtFinal DPM-Solver++: always first order on the last step
 * @param lambdaMinClipped DPM-Solver++: drop the noisiest timesteps whose log-SNR/2 lies below this
 * @param originalInferenceSteps LCM: the step count of the grid the model was distilled on
 * @param timestepScaling LCM: scale of t in the consistency boundary condition c_skip, c_out
 */
public record SamplerOptions(
        double eta,
        int solverOrder,
        SolverType solverType,
        boolean lowerOrderFinal,
        boolean eulerAtFinal,
        double lambdaMinClipped,
        FinalSigmas finalSigmas,
        VarianceType varianceType,
        int originalInferenceSteps,
        double timestepScaling) {

    public SamplerOptions {
        if (!(eta >= 0) || Double.isInfinite(eta)) {
            throw new IllegalArgumentException("eta must be >= 0, got " + eta);
        }
        if (solverOrder != 1 && solverOrder != 2) {
            throw new IllegalArgumentException("solver_order must be 1 or 2, got " + solverOrder);
        }
        if (originalInferenceSteps < 1) {
            throw new IllegalArgumentException("original_inference_steps must be >= 1, got " + originalInferenceSteps);
        }
        if (!(timestepScaling > 0) || Double.isInfinite(timestepScaling)) {
            throw new IllegalArgumentException("timestep_scaling must be > 0, got " + timestepScaling);
        }
    }

    /** diffusers' constructor defaults of the respective schedulers. */
    public static SamplerOptions defaults() {
        return new SamplerOptions(0.0, 2, SolverType.MIDPOINT, true, false, Double.NEGATIVE_INFINITY,
                FinalSigmas.SIGMA_MIN, VarianceType.FIXED_SMALL, 50, 10.0);
    }

    public static SamplerOptions read(Path schedulerConfig) {
        return parse(ScheduleConfig.readJson(schedulerConfig));
    }

    public static SamplerOptions parse(JsonConfig c) {
        SamplerOptions d = defaults();
        String algorithm = c.getString("algorithm_type", "dpmsolver++");
        if (!algorithm.equals("dpmsolver++")) {
            throw c.error("algorithm_type", "has unsupported value \"" + algorithm + "\" (supported: \"dpmsolver++\")");
        }
        int order = c.getInt("solver_order", d.solverOrder());
        if (order != 1 && order != 2) {
            throw c.error("solver_order", "must be 1 or 2, got " + order);
        }
        requireValue(c, "interpolation_type", "linear");
        requireValue(c, "timestep_type", "discrete");
        if (c.getBool("use_lu_lambdas", false)) {
            throw c.error("use_lu_lambdas", "is true: uniform-logSNR steps are not supported");
        }
        int original = c.getInt("original_inference_steps", d.originalInferenceSteps());
        // LCM's grid takes original_inference_steps of the training timesteps (ScheduleConfig reads their count)
        int numTrain = c.getInt("num_train_timesteps", ScheduleConfig.defaults().numTrainTimesteps());
        if (original < 1 || original > numTrain) {
            throw c.error("original_inference_steps", "must be in [1, num_train_timesteps = " + numTrain + "], got "
                    + original);
        }
        double scaling = c.getDouble("timestep_scaling", d.timestepScaling());
        if (!(scaling > 0) || Double.isInfinite(scaling)) {
            throw c.error("timestep_scaling", "must be > 0, got " + scaling);
        }
        return new SamplerOptions(
                d.eta(),
                order,
                JsonNamed.parse(c, "solver_type", SolverType.class, d.solverType()),
                c.getBool("lower_order_final", d.lowerOrderFinal()),
                c.getBool("euler_at_final", d.eulerAtFinal()),
                lambdaMinClipped(c, d.lambdaMinClipped()),
                JsonNamed.parse(c, "final_sigmas_type", FinalSigmas.class, d.finalSigmas()),
                JsonNamed.parse(c, "variance_type", VarianceType.class, d.varianceType()),
                original,
                scaling);
    }

    public SamplerOptions withEta(double newEta) {
        return new SamplerOptions(newEta, solverOrder, solverType, lowerOrderFinal, eulerAtFinal, lambdaMinClipped,
                finalSigmas, varianceType, originalInferenceSteps, timestepScaling);
    }

    private static void requireValue(JsonConfig c, String key, String only) {
        String value = c.getString(key, only);
        if (!value.equals(only)) {
            throw c.error(key, "has unsupported value \"" + value + "\" (supported: \"" + only + "\")");
        }
    }

    /** A number, or Python's non-finite spellings, which some writers store as strings. */
    private static double lambdaMinClipped(JsonConfig c, double fallback) {
        String key = "lambda_min_clipped";
        JsonNode n = c.root().get(key);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (n.isTextual()) {
            return switch (n.asText()) {
                case "-Infinity", "-inf" -> Double.NEGATIVE_INFINITY;
                case "Infinity", "inf" -> Double.POSITIVE_INFINITY;
                default -> throw c.error(key, "must be a number, got " + n);
            };
        }
        double v = c.getDouble(key, fallback);
        if (Double.isNaN(v)) {
            throw c.error(key, "must be a number, got NaN");
        }
        return v;
    }
}
