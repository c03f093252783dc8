package dev.mdx.schedule;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The noise schedule of a diffusers {@code scheduler/scheduler_config.json}: everything that decides betas,
 * alphas_cumprod, sigmas and the timestep grid. Solver-specific keys live in
 * {@link dev.mdx.sampling.SamplerOptions}; keys of neither are ignored (diffusers configs carry many).
 *
 * <p>The three optional fields have class-dependent defaults in diffusers (DDIM and DDPM use "leading" spacing, Euler
 * and DPM-Solver "linspace"; DDIM clips x0 by default, LCM does not), so an absent key stays empty here and each
 * sampler applies its own default, exactly as {@code SomeScheduler.from_config(sd_config)} does.
 *
 * @param trainedBetas explicit betas (one per training timestep); empty when the schedule is computed
 * @param sigmaMin Karras range override (Euler only, diffusers' {@code sigma_min}); empty = the schedule's
 * @param sigmaMax Karras range override (Euler only, diffusers' {@code sigma_max}); empty = the schedule's
 */
public record ScheduleConfig(
        int numTrainTimesteps,
        double betaStart,
        double betaEnd,
        BetaSchedule betaSchedule,
        List<Double> trainedBetas,
        PredictionType predictionType,
        Optional<TimestepSpacing> timestepSpacing,
        int stepsOffset,
        Optional<Boolean> setAlphaToOne,
        Optional<Boolean> clipSample,
        double clipSampleRange,
        boolean useKarrasSigmas,
        Optional<Double> sigmaMin,
        Optional<Double> sigmaMax,
        boolean rescaleBetasZeroSnr) {

    private static final JsonMapper LENIENT = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    public ScheduleConfig {
        trainedBetas = List.copyOf(trainedBetas);
        if (numTrainTimesteps < 2) {
            throw new IllegalArgumentException("num_train_timesteps must be at least 2, got " + numTrainTimesteps);
        }
        if (!trainedBetas.isEmpty() && trainedBetas.size() != numTrainTimesteps) {
            throw new IllegalArgumentException("trained_betas has " + trainedBetas.size()
                    + " entries but num_train_timesteps is " + numTrainTimesteps);
        }
        if (stepsOffset < 0) {
            throw new IllegalArgumentException("steps_offset must be >= 0, got " + stepsOffset);
        }
        if (!(clipSampleRange > 0)) {
            throw new IllegalArgumentException("clip_sample_range must be > 0, got " + clipSampleRange);
        }
    }

    /** diffusers' constructor defaults (DDPMScheduler / DDIMScheduler). */
    public static ScheduleConfig defaults() {
        return new ScheduleConfig(1000, 0.0001, 0.02, BetaSchedule.LINEAR, List.of(), PredictionType.EPSILON,
                Optional.empty(), 0, Optional.empty(), Optional.empty(), 1.0, false, Optional.empty(),
                Optional.empty(), false);
    }

    /** Reads a scheduler_config.json; accepts the bare {@code -Infinity} Python's json writes. */
    public static ScheduleConfig read(Path file) {
        return parse(readJson(file));
    }

    /** A scheduler_config.json as a {@link JsonConfig}, allowing Python's non-finite number tokens. */
    public static JsonConfig readJson(Path file) {
        return new JsonConfig(file.toString(), JsonConfig.readTree(file, LENIENT));
    }

    public static ScheduleConfig parse(JsonConfig c) {
        ScheduleConfig d = defaults();
        if (c.getBool("thresholding", false)) {
            throw c.error("thresholding", "is true: dynamic thresholding is not supported (pixel-space models only)");
        }
        int n = c.getInt("num_train_timesteps", d.numTrainTimesteps());
        if (n < 2) {
            throw c.error("num_train_timesteps", "must be at least 2, got " + n);
        }
        int offset = c.getInt("steps_offset", d.stepsOffset());
        if (offset < 0) {
            throw c.error("steps_offset", "must be >= 0, got " + offset);
        }
        double clipRange = c.getDouble("clip_sample_range", d.clipSampleRange());
        if (!(clipRange > 0)) {
            throw c.error("clip_sample_range", "must be > 0, got " + clipRange);
        }
        BetaSchedule schedule = JsonNamed.parse(c, "beta_schedule", BetaSchedule.class, d.betaSchedule());
        List<Double> trained = trainedBetas(c, n);
        double betaStart = c.getDouble("beta_start", d.betaStart());
        double betaEnd = c.getDouble("beta_end", d.betaEnd());
        if (trained.isEmpty() && schedule != BetaSchedule.SQUAREDCOS_CAP_V2) {
            checkBetaRange(c, betaStart, betaEnd);
        }
        return new ScheduleConfig(
                n,
                betaStart,
                betaEnd,
                schedule,
                trained,
                JsonNamed.parse(c, "prediction_type", PredictionType.class, d.predictionType()),
                Optional.ofNullable(JsonNamed.parse(c, "timestep_spacing", TimestepSpacing.class, null)),
                offset,
                c.has("set_alpha_to_one") ? Optional.of(c.getBool("set_alpha_to_one", true)) : Optional.empty(),
                c.has("clip_sample") ? Optional.of(c.getBool("clip_sample", true)) : Optional.empty(),
                clipRange,
                c.getBool("use_karras_sigmas", false),
                positive(c, "sigma_min"),
                positive(c, "sigma_max"),
                c.getBool("rescale_betas_zero_snr", false));
    }

    /**
     * diffusers takes any beta_start and beta_end, but betas outside (0, 1) or decreasing ones give NaN or an
     * all-black image with no error; the cosine schedule and trained_betas do not use the two.
     */
    private static void checkBetaRange(JsonConfig c, double betaStart, double betaEnd) {
        for (String key : new String[] {"beta_start", "beta_end"}) {
            double v = key.equals("beta_start") ? betaStart : betaEnd;
            if (!(v > 0 && v < 1)) {
                throw c.error(key, "must be a number between 0 and 1 (exclusive), got " + v);
            }
        }
        if (betaStart > betaEnd) {
            throw c.error("beta_start", "(" + betaStart + ") is above beta_end (" + betaEnd
                    + "): the noise schedule must not decrease");
        }
    }

    private static List<Double> trainedBetas(JsonConfig c, int n) {
        JsonNode node = c.root().get("trained_betas");
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray() || node.size() != n) {
            throw c.error("trained_betas", "must be null or a list of num_train_timesteps (" + n + ") numbers");
        }
        List<Double> out = new ArrayList<>(n);
        for (JsonNode e : node) {
            if (!e.isNumber() || !(e.asDouble() > 0 && e.asDouble() < 1)) {
                throw c.error("trained_betas", "must hold numbers between 0 and 1 (exclusive), got " + e);
            }
            out.add(e.asDouble());
        }
        return out;
    }

    private static Optional<Double> positive(JsonConfig c, String key) {
        if (!c.has(key)) {
            return Optional.empty();
        }
        double v = c.getDouble(key, 0);
        if (!(v > 0) || Double.isInfinite(v)) {
            throw c.error(key, "must be a positive number, got " + v);
        }
        return Optional.of(v);
    }

    /** The spacing of the file, or the sampler's own default when the file has none. */
    public TimestepSpacing spacingOr(TimestepSpacing samplerDefault) {
        return timestepSpacing.orElse(samplerDefault);
    }

    public ScheduleConfig withPredictionType(PredictionType type) {
        return new ScheduleConfig(numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, type,
                timestepSpacing, stepsOffset, setAlphaToOne, clipSample, clipSampleRange, useKarrasSigmas, sigmaMin,
                sigmaMax, rescaleBetasZeroSnr);
    }

    public ScheduleConfig withTimestepSpacing(TimestepSpacing spacing) {
        return new ScheduleConfig(numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, predictionType,
                Optional.of(spacing), stepsOffset, setAlphaToOne, clipSample, clipSampleRange, useKarrasSigmas,
                sigmaMin, sigmaMax, rescaleBetasZeroSnr);
    }

    public ScheduleConfig withKarrasSigmas(boolean karras) {
        return new ScheduleConfig(numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, predictionType,
                timestepSpacing, stepsOffset, setAlphaToOne, clipSample, clipSampleRange, karras, sigmaMin, sigmaMax,
                rescaleBetasZeroSnr);
    }
}
