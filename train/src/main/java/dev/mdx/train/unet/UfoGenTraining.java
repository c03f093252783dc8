package dev.mdx.train.unet;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFolder;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.ModelIndex;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.schedule.PredictionType;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.train.AdamW;
import dev.mdx.train.Trainer;
import dev.mdx.train.TrainingPhase;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.AutoencoderKL;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;

/**
 * {@code mdx train ufogen}: UFOGen fine-tuning of a trained base pipeline into a one-step generator (paper-notes 7).
 * Generator and discriminator both start from the base UNet; the trainer alternates their steps (phases with
 * separate AdamW states, EMA on the generator) and the export is a pipeline folder whose scheduler is
 * {@code UFOGenScheduler}, so {@code mdx generate} samples it with the ufogen sampler in 1 step without guidance.
 *
 * <p>Config: {@code trainer} and {@code data} as stage unet, {@code base} (pipeline folder) and an optional
 * {@code ufogen} object: {@code step_gap} (250), {@code reconstruction_weight} (1), {@code adversarial_weight} (1),
 * {@code logit_clamp} (0.5), {@code phase_pattern} ("dg": a D step, then a G step), and the discriminator's
 * optimizer: {@code discriminator_learning_rate} (the trainer's), {@code discriminator_adam_beta1} (0),
 * {@code discriminator_adam_beta2} (0.999), {@code discriminator_weight_decay} (0); {@code discriminator_max_timestep}
 * (-1: t' = t - step_gap; else t' ~ U{0..value}), {@code discriminator_loss} ({@code bce} or {@code hinge}) and
 * {@code probe_every} (30: how often a G step measures each term's gradient norm on the generator; 0 never),
 * {@code one_step_fraction} (0: the share of examples at t = N-1 instead of uniform t), {@code discriminator}
 * ({@code unet_encoder}, or {@code pixel}: {@link PixelDiscriminator}, with discriminator_max_timestep 0) and
 * {@code pixel_discriminator_width} (32) and {@code pixel_discriminator_text} (false: unconditional; true: a
 * projection term on the mean text embedding); {@code teacher} (a pipeline folder of the base's latents and text
 * encoder, e.g. its 8-step student; relative to the config file), {@code teacher_steps} (8) and
 * {@code teacher_guidance_scale} (7.5): G steps regress the one-step examples to the teacher's DDIM sample from the
 * same noisy input instead of the data (needs one_step_fraction > 0).
 */
public final class UfoGenTraining {
    static final String TERMS_FILE = "ufogen_terms.csv";

    private UfoGenTraining() {}

    public static Trainer.Result run(Path configFile, Path outDir, boolean resume, PrintStream out) {
        FromPipeline p = FromPipeline.read(configFile, "base");
        if (p.unetConfig.hasTimeCondProj()) {
            throw new ModelFormatException(p.doc.source() + ": the base " + p.folder.root() + " takes the guidance"
                    + " scale as an input (time_cond_proj_dim); UFOGen fine-tunes only UNets without one");
        }
        JsonConfig u = p.section("ufogen");
        FromPipeline.rejectUnknown(u, List.of("step_gap", "reconstruction_weight", "adversarial_weight", "logit_clamp",
                "phase_pattern", "discriminator_learning_rate", "discriminator_adam_beta1", "discriminator_adam_beta2",
                "discriminator_weight_decay", "discriminator_max_timestep", "discriminator_loss", "probe_every",
                "one_step_fraction", "discriminator", "pixel_discriminator_width", "pixel_discriminator_text",
                "teacher", "teacher_steps", "teacher_guidance_scale"));
        int n = p.schedule.numTrainTimesteps();
        int tPrimeMax = u.getInt("discriminator_max_timestep", -1);
        if (tPrimeMax < -1 || tPrimeMax >= n) {
            throw u.error("discriminator_max_timestep", "must be -1 (t' = t - step_gap) or in [0, " + n + "), got "
                    + tPrimeMax);
        }
        String dLoss = u.getString("discriminator_loss", "bce");
        if (!dLoss.equals("bce") && !dLoss.equals("hinge")) {
            throw u.error("discriminator_loss", "must be bce or hinge, got '" + dLoss + "'");
        }
        int probeEvery = u.getInt("probe_every", 30);
        if (probeEvery < 0) {
            throw u.error("probe_every", "must be >= 0 (0: never), got " + probeEvery);
        }
        double oneStep = nonNegative(u, "one_step_fraction", 0.0);
        if (oneStep > 1) {
            throw u.error("one_step_fraction", "must be in [0, 1], got " + oneStep);
        }
        UfoGenLoss.Settings settings = new UfoGenLoss.Settings(u.getInt("step_gap", 250),
                nonNegative(u, "reconstruction_weight", 1.0), nonNegative(u, "adversarial_weight", 1.0),
                nonNegative(u, "logit_clamp", 0.5), tPrimeMax, dLoss.equals("hinge"), probeEvery, oneStep);
        if (settings.stepGap() < 1 || settings.stepGap() >= n) {
            throw u.error("step_gap", "must be in [1, " + n + "), got " + settings.stepGap());
        }
        String dKind = u.getString("discriminator", "unet_encoder");
        if (!dKind.equals("unet_encoder") && !dKind.equals("pixel")) {
            throw u.error("discriminator", "must be unet_encoder or pixel, got '" + dKind + "'");
        }
        if (dKind.equals("pixel") && tPrimeMax != 0) {
            throw u.error("discriminator", "pixel judges decoded clean samples: it needs discriminator_max_timestep 0");
        }
        int pixelWidth = u.getInt("pixel_discriminator_width", 32);
        if (pixelWidth < 1) {
            throw u.error("pixel_discriminator_width", "must be >= 1, got " + pixelWidth);
        }
        TrainingPhase.Schedule schedule = phasePattern(u);
        double dLr = u.getDouble("discriminator_learning_rate", p.trainer.learningRate());
        // the discriminator's phase runs at this multiple of the trainer's schedule
        double dLrScale = dLr / p.trainer.learningRate();
        if (!(dLrScale > 0) || Double.isInfinite(dLrScale)) {
            throw u.error("discriminator_learning_rate", "must be a positive number, got " + dLr);
        }
        AdamW.Settings dAdam;
        try {
            dAdam = new AdamW.Settings(u.getDouble("discriminator_adam_beta1", 0.0),
                    u.getDouble("discriminator_adam_beta2", 0.999), p.trainer.adamEpsilon(),
                    u.getDouble("discriminator_weight_decay", 0.0));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(u.source() + ": discriminator optimizer: " + e.getMessage());
        }
        PredictionType prediction = p.schedule.predictionType();
        if (prediction == PredictionType.SAMPLE) {
            throw new ModelFormatException(p.folder.schedulerConfig() + ": UFOGen needs an epsilon or v_prediction"
                    + " base model, not sample");
        }
        List<TrainingPhase> phases = phases(p.trainer.adamW(), dAdam, dLrScale);
        TeacherSpec teacherSpec = teacher(u, p, oneStep);

        try (NDManager weights = NDManager.newBaseManager(); TermsLog terms = new TermsLog(outDir, resume)) {
            LatentBatchSource batches = p.batches(outDir, weights, out);
            TextConditioning text = p.text(weights);
            var generator = p.loadUnet(weights);
            Discriminator discriminator;
            if (dKind.equals("pixel")) {
                PixelDiscriminator pixel = new PixelDiscriminator(AutoencoderKL.load(p.folder.vaeDir(), weights),
                        pixelWidth, u.getBool("pixel_discriminator_text", false)
                                ? p.unetConfig.crossAttentionDim().get(0) : 0);
                pixel.init(weights, p.trainer.seed() + 1);
                discriminator = pixel;
            } else {
                UfoGenDiscriminator encoder = new UfoGenDiscriminator(p.unetConfig);
                encoder.initFrom(generator, weights);
                discriminator = encoder;
            }
            UfoGenModels models = new UfoGenModels(generator, discriminator);
            out.printf(Locale.ROOT, "UFOGen: generator %,d parameters, discriminator %,d; step gap %d; %d examples%n",
                    generator.parameterCount(), discriminator.parameterCount(), settings.stepGap(), batches.size());
            TeacherSampler teacher = null;
            if (teacherSpec != null) {
                ModelFolder f = teacherSpec.folder();
                teacher = new TeacherSampler(UNet2DConditionModel.load(f.unetDir(), weights),
                        ScheduleConfig.read(f.schedulerConfig()), teacherSpec.steps(),
                        teacherSpec.guidanceScale());
                out.printf(Locale.ROOT, "one-step examples regress to the %d-step samples of %s at guidance %s%n",
                        teacherSpec.steps(), f.root(), teacherSpec.guidanceScale());
            }
            UfoGenLoss loss = new UfoGenLoss(models, text, NoiseSchedule.of(p.schedule), prediction, settings,
                    terms::append, teacher);
            Trainer.Result result;
            try (Trainer<LatentBatch> t = Trainer.builder(models, loss, batches, p.trainer, outDir)
                    .phases(phases, schedule).progress(out, false).build()) {
                result = t.run(resume);
                if (!result.stopped()) {
                    Path dir = outDir.resolve("pipeline");
                    p.export(dir, p.unetConfig, UNetTraining.emaWeights(t, generator, UfoGenModels.GENERATOR),
                            ufoGenScheduler(p.schedulerJson, settings.stepGap()), "trained by mdx train ufogen",
                            index -> ModelIndex.putStudentKeys(index, 1, false, null, null));
                    out.println("exported " + dir + " (sample with: mdx generate -m " + dir + ", 1 step, ufogen)");
                }
            }
            return result;
        }
    }

    /** The teacher's folder and how it samples. */
    private record TeacherSpec(ModelFolder folder, int steps, double guidanceScale) {}

    /**
     * The {@code teacher} settings, or null without one: a model of the base's latent space and text encoder (a
     * student of the same base), checked here so a mismatch fails before any training.
     */
    private static TeacherSpec teacher(JsonConfig u, FromPipeline p, double oneStep) {
        if (!u.has("teacher")) {
            for (String k : List.of("teacher_steps", "teacher_guidance_scale")) {
                if (u.has(k)) {
                    throw u.error(k, "applies only with a teacher (\"teacher\": a pipeline folder)");
                }
            }
            return null;
        }
        if (oneStep <= 0) {
            throw u.error("teacher", "regresses the one-step examples (t = N-1): it needs one_step_fraction > 0");
        }
        int steps = u.getInt("teacher_steps", 8);
        if (steps < 1) {
            throw u.error("teacher_steps", "must be at least 1, got " + steps);
        }
        double w = u.getDouble("teacher_guidance_scale", 7.5);
        if (!(w >= 0) || Double.isInfinite(w)) {
            throw u.error("teacher_guidance_scale", "must be a number >= 0, got " + w);
        }
        ModelFolder f = ModelFolder.open(p.base.resolve(u.getString("teacher", "")));
        UNetConfig t = UNetConfig.read(f.unetConfig());
        UNetConfig g = p.unetConfig;
        if (t.inChannels() != g.inChannels() || t.outChannels() != g.outChannels()
                || !t.crossAttentionDim().equals(g.crossAttentionDim())) {
            throw u.error("teacher", "the teacher " + f.root() + " does not fit the base's latents and text features"
                    + " (in/out channels " + t.inChannels() + "/" + t.outChannels() + ", cross-attention "
                    + t.crossAttentionDim() + " against " + g.inChannels() + "/" + g.outChannels() + ", "
                    + g.crossAttentionDim() + ")");
        }
        try {
            if (Files.mismatch(f.textEncoderWeights(), p.folder.textEncoderWeights()) != -1) {
                throw u.error("teacher", "the teacher " + f.root() + " has another text encoder than the base: it"
                        + " must read the same text features (a student of the same base)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f.textEncoderWeights() + ": " + e.getMessage(), e);
        }
        return new TeacherSpec(f, steps, w);
    }

    /** Phase 0 trains the generator's keys, phase 1 the discriminator's, each with its own AdamW state. */
    static List<TrainingPhase> phases(AdamW.Settings generator, AdamW.Settings discriminator, double dLrScale) {
        return List.of(new TrainingPhase("generator", k -> k.startsWith(UfoGenModels.GENERATOR), generator, 1.0),
                new TrainingPhase("discriminator", k -> k.startsWith(UfoGenModels.DISCRIMINATOR), discriminator,
                        dLrScale));
    }

    /** The base schedule under UFOGenScheduler, without diffusers' default clipping of x0 to [-1, 1]. */
    static ObjectNode ufoGenScheduler(ObjectNode base, int stepGap) {
        ObjectNode s = base.deepCopy();
        s.put("_class_name", "UFOGenScheduler");
        s.put("clip_sample", false);
        s.put("denoising_step_size", stepGap);
        s.put("timestep_spacing", "trailing");
        return s;
    }

    /** "dg", "dgg", ...: d = discriminator step, g = generator step, repeated. */
    static TrainingPhase.Schedule phasePattern(JsonConfig u) {
        String pattern = u.getString("phase_pattern", "dg");
        if (!pattern.matches("[dg]+") || !pattern.contains("d") || !pattern.contains("g")) {
            throw u.error("phase_pattern", "must be a string of d (discriminator step) and g (generator step) "
                    + "holding both, got '" + pattern + "'");
        }
        int[] phases = pattern.chars().map(c -> c == 'g' ? UfoGenLoss.GENERATOR : UfoGenLoss.DISCRIMINATOR).toArray();
        return TrainingPhase.Schedule.cycle(phases);
    }

    private static double nonNegative(JsonConfig c, String key, double dflt) {
        double v = c.getDouble(key, dflt);
        if (!(v >= 0) || !Double.isFinite(v)) {
            throw c.error(key, "must be >= 0, got " + v);
        }
        return v;
    }

    /**
     * OUT/ufogen_terms.csv (appended on resume): step, phase, adversarial, reconstruction, mean real / fake logits,
     * the discriminator's accuracy on real / fake samples, mean real / fake logits per t' bucket, and the gradient
     * norms of the weighted adversarial and reconstruction terms on the generator with the adversarial share
     * |g_adv| / (|g_adv| + |g_rec|) (NaN where not measured).
     */
    static final class TermsLog implements AutoCloseable {
        static final String HEADER = header();
        private final BufferedWriter writer;

        TermsLog(Path outDir, boolean resume) {
            try {
                Files.createDirectories(outDir);
                Path file = outDir.resolve(TERMS_FILE);
                boolean fresh = !resume || !Files.exists(file);
                writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        fresh ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND);
                if (fresh) {
                    writer.write(HEADER + "\n");
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + outDir.resolve(TERMS_FILE) + ": " + e.getMessage(), e);
            }
        }

        private static String header() {
            StringBuilder h = new StringBuilder("step,phase,adversarial,reconstruction,real_logit,fake_logit,"
                    + "real_accuracy,fake_accuracy");
            int[] edges = UfoGenLoss.BUCKETS;
            for (int b = 0; b < edges.length; b++) {
                String range = b + 1 < edges.length ? edges[b] + "_" + (edges[b + 1] - 1) : edges[b] + "_up";
                h.append(",real_t").append(range).append(",fake_t").append(range);
            }
            return h.append(",adv_grad_norm,rec_grad_norm,adv_grad_share").toString();
        }

        void append(UfoGenLoss.Terms t) {
            try {
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%d,%s", t.step() + 1,
                        t.phase() == UfoGenLoss.GENERATOR ? "g" : "d"));
                double share = t.adversarialGradNorm() / (t.adversarialGradNorm() + t.reconstructionGradNorm());
                for (double v : new double[] {t.adversarial(), t.reconstruction(), t.realLogit(), t.fakeLogit(),
                        t.realAccuracy(), t.fakeAccuracy()}) {
                    row.append(String.format(Locale.ROOT, ",%.6g", v));
                }
                for (int b = 0; b < UfoGenLoss.BUCKETS.length; b++) {
                    row.append(String.format(Locale.ROOT, ",%.6g,%.6g", t.realByBucket()[b], t.fakeByBucket()[b]));
                }
                for (double v : new double[] {t.adversarialGradNorm(), t.reconstructionGradNorm(), share}) {
                    row.append(String.format(Locale.ROOT, ",%.6g", v));
                }
                writer.write(row.append('\n').toString());
                writer.flush(); // readable while the run goes on: one row per step is cheap
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() {
            try {
                writer.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
