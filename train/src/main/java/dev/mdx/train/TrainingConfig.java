package dev.mdx.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The trainer's settings, read from the {@code "trainer"} object of a training config file; other top-level
 * objects belong to the stage (model, data, loss). Key names follow diffusers' training scripts. Unknown keys in
 * the trainer object are errors, so a typo never silently falls back to a default.
 *
 * @param maxTrainSteps optimizer steps of the whole run
 * @param trainBatchSize examples per batch, for the batch source
 * @param learningRate peak learning rate
 * @param lrWarmupSteps steps of linear warmup
 * @param lrMin floor reached by the cosine decay at the last step
 * @param adamBeta1 AdamW first-moment decay
 * @param adamBeta2 AdamW second-moment decay
 * @param adamEpsilon AdamW denominator epsilon
 * @param adamWeightDecay AdamW decoupled weight decay
 * @param maxGradNorm clip gradients to this global L2 norm; 0 disables clipping
 * @param useEma keep an exponential moving average of the trained weights
 * @param ema EMA settings (used when {@code useEma})
 * @param seed seed of the run's generator
 * @param checkpointingSteps write a checkpoint every this many steps (and always at the end)
 * @param checkpointsTotalLimit keep only this many most recent checkpoints
 * @param sampleEvery call the periodic hook every this many steps; 0 never (except at the end)
 * @param logEvery print the progress line every this many steps when the output is not a terminal
 * @param document the whole config file, saved beside every checkpoint
 */
public record TrainingConfig(int maxTrainSteps, int trainBatchSize, double learningRate, int lrWarmupSteps,
        double lrMin, double adamBeta1, double adamBeta2, double adamEpsilon, double adamWeightDecay,
        double maxGradNorm, boolean useEma, Ema.Settings ema, long seed, int checkpointingSteps,
        int checkpointsTotalLimit, int sampleEvery, int logEvery, JsonNode document) {

    public static final String SECTION = "trainer";

    private static final Set<String> KEYS = new TreeSet<>(List.of("max_train_steps", "train_batch_size",
            "learning_rate", "lr_warmup_steps", "lr_min", "adam_beta1", "adam_beta2", "adam_epsilon",
            "adam_weight_decay", "max_grad_norm", "use_ema", "ema_decay", "ema_min_decay", "ema_update_after_step",
            "ema_use_warmup", "ema_inv_gamma", "ema_power", "seed", "checkpointing_steps",
            "checkpoints_total_limit", "sample_every", "log_every"));

    public TrainingConfig {
        document = document == null ? JsonConfig.MAPPER.createObjectNode() : document.deepCopy();
    }

    public static TrainingConfig read(Path file) {
        return fromDocument(JsonConfig.read(file));
    }

    public static TrainingConfig parse(String source, String json) {
        return fromDocument(JsonConfig.parse(source, json));
    }

    /** Reads the {@code "trainer"} object of a whole config document. */
    public static TrainingConfig fromDocument(JsonConfig doc) {
        JsonNode section = doc.root().get(SECTION);
        if (section == null || !section.isObject()) {
            throw doc.error(SECTION, section == null ? "is missing (an object holding the trainer settings)"
                    : "must be an object, got " + section);
        }
        JsonConfig c = section(doc);
        c.rejectUnknown(KEYS);
        int maxSteps = positive(c, "max_train_steps", null);
        double lr = c.getDouble("learning_rate", 1e-4);
        check(c, "learning_rate", lr > 0 && Double.isFinite(lr), "must be > 0", lr);
        int warmup = c.getInt("lr_warmup_steps", 0);
        check(c, "lr_warmup_steps", warmup >= 0, "must be >= 0", warmup);
        double lrMin = c.getDouble("lr_min", 0.0);
        check(c, "lr_min", lrMin >= 0 && lrMin <= lr, "must be between 0 and learning_rate (" + lr + ")", lrMin);
        double beta1 = c.getDouble("adam_beta1", 0.9);
        check(c, "adam_beta1", beta1 >= 0 && beta1 < 1, "must be in [0, 1)", beta1);
        double beta2 = c.getDouble("adam_beta2", 0.999);
        check(c, "adam_beta2", beta2 >= 0 && beta2 < 1, "must be in [0, 1)", beta2);
        double eps = c.getDouble("adam_epsilon", 1e-8);
        check(c, "adam_epsilon", eps > 0, "must be > 0", eps);
        double wd = c.getDouble("adam_weight_decay", 1e-2);
        check(c, "adam_weight_decay", wd >= 0 && wd * lr < 1, "must be >= 0 with learning_rate * decay < 1", wd);
        double clip = c.getDouble("max_grad_norm", 1.0);
        check(c, "max_grad_norm", clip >= 0 && Double.isFinite(clip), "must be >= 0 (0 disables clipping)", clip);
        boolean useEma = c.getBool("use_ema", true);
        double emaDecay = c.getDouble("ema_decay", 0.9999);
        check(c, "ema_decay", emaDecay >= 0 && emaDecay <= 1, "must be in [0, 1]", emaDecay);
        double emaMin = c.getDouble("ema_min_decay", 0.0);
        check(c, "ema_min_decay", emaMin >= 0 && emaMin <= emaDecay, "must be between 0 and ema_decay", emaMin);
        int emaAfter = c.getInt("ema_update_after_step", 0);
        check(c, "ema_update_after_step", emaAfter >= 0, "must be >= 0", emaAfter);
        boolean emaWarmup = c.getBool("ema_use_warmup", false);
        double invGamma = c.getDouble("ema_inv_gamma", 1.0);
        check(c, "ema_inv_gamma", invGamma > 0, "must be > 0", invGamma);
        double power = c.getDouble("ema_power", 2.0 / 3.0);
        check(c, "ema_power", power > 0, "must be > 0", power);
        return new TrainingConfig(maxSteps, positive(c, "train_batch_size", 1), lr, warmup, lrMin, beta1, beta2,
                eps, wd, clip, useEma, new Ema.Settings(emaDecay, emaMin, emaAfter, emaWarmup, invGamma, power),
                seedOf(c), positive(c, "checkpointing_steps", 500), positive(c, "checkpoints_total_limit", 3),
                nonNegative(c, "sample_every", 0), positive(c, "log_every", 10), doc.root());
    }

    /**
     * An error about a trainer setting that only a stage can judge (a batch size its data or loss cannot take),
     * naming the file and the field as the trainer's own checks do.
     */
    public static ModelFormatException error(JsonConfig doc, String key, String problem) {
        return section(doc).error(key, problem);
    }

    private static JsonConfig section(JsonConfig doc) {
        return new JsonConfig(doc.source() + ": section '" + SECTION + "'", doc.root().get(SECTION));
    }

    public LrSchedule schedule() {
        return new LrSchedule(learningRate, lrWarmupSteps, maxTrainSteps, lrMin);
    }

    public AdamW.Settings adamW() {
        return new AdamW.Settings(adamBeta1, adamBeta2, adamEpsilon, adamWeightDecay);
    }

    private static long seedOf(JsonConfig c) {
        JsonNode n = c.root().get("seed");
        if (n == null || n.isNull()) {
            return 0;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw c.error("seed", "must be an integer, got " + n);
        }
        return n.asLong();
    }

    private static int positive(JsonConfig c, String key, Integer fallback) {
        int v = fallback == null ? c.requireInt(key) : c.getInt(key, fallback);
        check(c, key, v > 0, "must be > 0", v);
        return v;
    }

    private static int nonNegative(JsonConfig c, String key, int fallback) {
        int v = c.getInt(key, fallback);
        check(c, key, v >= 0, "must be >= 0", v);
        return v;
    }

    private static void check(JsonConfig c, String key, boolean ok, String rule, Object value) {
        if (!ok) {
            throw c.error(key, rule + ", got " + value);
        }
    }
}
