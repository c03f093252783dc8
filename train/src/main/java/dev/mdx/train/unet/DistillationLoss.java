package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.nn.GuidanceEmbedding;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.schedule.PredictionType;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.schedule.TimestepGrid;
import dev.mdx.schedule.TimestepSpacing;
import dev.mdx.tensor.Ops;
import dev.mdx.train.LossFunction;
import dev.mdx.train.StepContext;
import dev.mdx.unet.Guidance;
import dev.mdx.unet.GuidedDenoiser;
import dev.mdx.unet.UNet2DConditionModel;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * SnapFusion's CFG-aware step distillation (paper-notes 6.2, 6.4): the student learns in one DDIM step what the
 * frozen teacher does in two. Per step:
 *
 * <pre>
 *   t = a timestep of the student's S-step DDIM grid (as DdimSampler plans it), t'' = t - N/S (past 0: the final
 *   alpha), t' = max(t - N/(2S), 0);  z_t = alpha_t x + sigma_t eps from the data
 *   w = U[w_min, w_max] per example with probability p (one draw per step), else the fixed w
 *   teacher: out = out(uncond) + w (out(c) - out(uncond)) (w = 1: the conditional output alone), converted to
 *            (x^, eps^) from its own prediction type; z_t' = alpha_t' x^ + sigma_t' eps^, again to z_t''
 *   target  = (z_t'' - (sigma_t''/sigma_t) z_t) / (alpha_t'' - (sigma_t''/sigma_t) alpha_t)  (lands on z_t'' in 1 step)
 *   student: the same guided combination of its outputs, converted to x^_s from its prediction type
 *   L_dstl  = mean(max(alpha_t^2 / sigma_t^2, 1) (x^_s - target)^2)
 *   L_ori   = mean((student's conditional output - its true target (eps or v))^2)   (same forward pass)
 *   L       = L_dstl + gamma L_ori, gamma = ori_weight * sg(L_dstl) / sg(L_ori) when dynamic
 * </pre>
 *
 * Every conversion goes through x-space, so an epsilon teacher can teach a v student. For the first
 * {@code vFinetuneSteps} steps the loss is only the student's denoising loss at uniform t (fine-tuning to the
 * student's prediction type before distilling, as SnapFusion fine-tunes its teacher to v first).
 *
 * <p>{@code wConditioned} is Meng et al.'s guidance distillation (paper-notes 6.3) in LCM's form: the student has
 * {@code time_cond_proj_dim} and reads the embedding of (w - 1) ({@link GuidanceEmbedding}); every example draws its
 * own w from [w_min, w_max] (p and the fixed w do not apply), the teacher's target is guided at that w as above, and
 * the student makes ONE pass at w instead of a CFG pair. L_ori reads the student at w = 1 (the embedding of 0, the
 * conditional model), in the same UNet batch. A teacher that itself takes guidance as an input (a w-conditioned
 * student distilled again, Meng's stage 2) runs one pass per step at w instead of CFG.
 */
public final class DistillationLoss implements LossFunction<LatentBatch> {
    /**
     * @param studentSteps S: the student's DDIM step count; the teacher takes 2S half-size steps
     * @param fixedGuidance w when the step does not draw one (1 = plain distillation, as SnapFusion)
     * @param wConditioned the student takes w as an input (one pass per step) instead of being guided by CFG
     * @param guidanceEmbeddingDim width of the w embedding (the student's time_cond_proj_dim) when w-conditioned
     */
    public record Settings(int studentSteps, PredictionType teacherPrediction, PredictionType studentPrediction,
            double cfgProbability, double guidanceMin, double guidanceMax, double fixedGuidance, double oriWeight,
            boolean dynamicOriWeight, int vFinetuneSteps, boolean wConditioned, int guidanceEmbeddingDim) {
        /** The default width of the w embedding (diffusers' LCM UNets: 256). */
        public static final int DEFAULT_GUIDANCE_EMBEDDING_DIM = 256;

        public Settings {
            if (studentSteps < 1) {
                throw new IllegalArgumentException("student_steps must be at least 1, got " + studentSteps);
            }
            if (studentPrediction == PredictionType.SAMPLE || teacherPrediction == PredictionType.SAMPLE) {
                throw new IllegalArgumentException("distillation supports epsilon and v_prediction, not sample"
                        + " (student_prediction_type " + studentPrediction.jsonName() + ", the teacher's prediction_type "
                        + teacherPrediction.jsonName() + ")");
            }
            if (!(cfgProbability >= 0 && cfgProbability <= 1)) {
                throw new IllegalArgumentException("cfg_probability must be in [0, 1], got " + cfgProbability);
            }
            if (!(guidanceMin >= 1 && guidanceMax >= guidanceMin && fixedGuidance >= 1)) {
                throw new IllegalArgumentException("guidance scales must be >= 1 with guidance_min <= guidance_max, got"
                        + " guidance_min " + guidanceMin + ", guidance_max " + guidanceMax + " and guidance "
                        + fixedGuidance);
            }
            if (wConditioned && guidanceEmbeddingDim < GuidanceEmbedding.MIN_DIM) {
                throw new IllegalArgumentException("guidance_embedding_dim must be at least "
                        + GuidanceEmbedding.MIN_DIM + ", got " + guidanceEmbeddingDim);
            }
        }

        /** CFG-aware distillation (SnapFusion) without a w input. */
        public Settings(int studentSteps, PredictionType teacherPrediction, PredictionType studentPrediction,
                double cfgProbability, double guidanceMin, double guidanceMax, double fixedGuidance, double oriWeight,
                boolean dynamicOriWeight, int vFinetuneSteps) {
            this(studentSteps, teacherPrediction, studentPrediction, cfgProbability, guidanceMin, guidanceMax,
                    fixedGuidance, oriWeight, dynamicOriWeight, vFinetuneSteps, false, 0);
        }
    }

    /**
     * The terms of the last step, for logs and tests.
     *
     * @param distillation L_dstl, NaN in v fine-tuning steps
     * @param original L_ori (the fine-tuning loss in v fine-tuning steps), NaN when not computed (a w-conditioned
     *     student with ori_loss_weight 0)
     * @param cfg whether the step drew w per example (always for a w-conditioned student)
     */
    public record Terms(double distillation, double original, boolean cfg) {}

    private final GuidedDenoiser student;
    private final GuidedDenoiser teacher;
    private final TextConditioning text;
    private final NoiseSchedule schedule;
    private final Settings settings;
    private final int[] grid;
    private final int ratio;
    private final float finalAlphaCumprod;
    private final DiffusionLoss finetune;
    private Terms lastTerms;

    public DistillationLoss(UNet2DConditionModel student, UNet2DConditionModel teacher, TextConditioning text,
            ScheduleConfig scheduleConfig, Settings settings) {
        this.student = new GuidedDenoiser(student);
        this.teacher = new GuidedDenoiser(teacher);
        this.text = text;
        this.schedule = NoiseSchedule.of(scheduleConfig);
        this.settings = settings;
        int n = schedule.numTrainTimesteps();
        if (settings.studentSteps() < 1 || settings.studentSteps() > n / 2) {
            throw new IllegalArgumentException("student_steps must be in [1, " + n / 2 + "], got "
                    + settings.studentSteps());
        }
        this.grid = studentTimesteps(scheduleConfig, settings.studentSteps());
        this.ratio = n / settings.studentSteps();
        this.finalAlphaCumprod = scheduleConfig.setAlphaToOne().orElse(true) ? 1f : schedule.alphaCumprod(0);
        GuidanceEmbedding embedding = settings.wConditioned()
                ? new GuidanceEmbedding(settings.guidanceEmbeddingDim()) : null;
        // v fine-tuning of a w-conditioned student trains its unguided output (w embedding of scale 1)
        this.finetune = new DiffusionLoss(student, text.textEncoder(), text.tokenizer(), schedule,
                settings.studentPrediction(), embedding);
        checkGuidanceInputs(student, teacher, settings);
    }

    /** A w-conditioned student must read a w embedding of the configured width; a teacher may only if it does too. */
    private static void checkGuidanceInputs(UNet2DConditionModel student, UNet2DConditionModel teacher,
            Settings settings) {
        Integer studentDim = student.config().timeCondProjDim();
        Integer teacherDim = teacher.config().timeCondProjDim();
        Integer wanted = settings.wConditioned() ? settings.guidanceEmbeddingDim() : null;
        if (!Objects.equals(studentDim, wanted)) {
            throw new IllegalArgumentException(settings.wConditioned()
                    ? "a w-conditioned student needs time_cond_proj_dim " + wanted + ", got " + studentDim
                    : "the student takes the guidance scale as an input (time_cond_proj_dim " + studentDim
                            + "), so it must be distilled w-conditioned");
        }
        if (teacherDim != null && !teacherDim.equals(wanted)) {
            throw new IllegalArgumentException("the teacher takes the guidance scale as an input (time_cond_proj_dim "
                    + teacherDim + "): its student must be w-conditioned with the same width, got "
                    + (wanted == null ? "a CFG student" : "width " + wanted));
        }
    }

    /** The timesteps DdimSampler plans for {@code steps} steps on this schedule (descending). */
    static int[] studentTimesteps(ScheduleConfig config, int steps) {
        return TimestepGrid.discrete(config.spacingOr(TimestepSpacing.LEADING), steps,
                NoiseSchedule.of(config).numTrainTimesteps(), config.stepsOffset());
    }

    public Terms lastTerms() {
        return lastTerms;
    }

    @Override
    public NDArray loss(LatentBatch batch, StepContext ctx) {
        if (ctx.step() < settings.vFinetuneSteps()) {
            NDArray loss = finetune.loss(batch, ctx);
            lastTerms = new Terms(Double.NaN, loss.toFloatArray()[0], false);
            return loss;
        }
        NDManager scope = ctx.scope();
        NDArray x0 = batch.latents();
        int b = (int) x0.getShape().get(0);
        int[] t = new int[b];
        int[] tMid = new int[b];
        int[] tNext = new int[b];
        for (int i = 0; i < b; i++) {
            t[i] = grid[ctx.rng().nextInt(grid.length)];
            tMid[i] = Math.max(t[i] - ratio / 2, 0);
            tNext[i] = t[i] - ratio; // negative: past the chain's end, the final alpha (as DdimSampler)
        }
        NDArray eps = ctx.rng().randn(scope, x0.getShape());
        // a w-conditioned student learns every w of the range, so every example draws one (no p draw)
        boolean cfg = settings.wConditioned() || ctx.rng().nextDouble() < settings.cfgProbability();
        double[] w = new double[b];
        for (int i = 0; i < b; i++) {
            // float32, as the scale tensor the models read
            w[i] = (float) (cfg ? settings.guidanceMin() + ctx.rng().nextDouble()
                    * (settings.guidanceMax() - settings.guidanceMin()) : settings.fixedGuidance());
        }
        boolean guided = cfg || settings.fixedGuidance() != 1;
        Guidance teacherGuidance = teacher.unet().config().hasTimeCondProj() ? Guidance.EMBEDDED
                : guided ? Guidance.CLASSIFIER_FREE : Guidance.NONE;
        Guidance studentGuidance = settings.wConditioned() ? Guidance.EMBEDDED
                : guided ? Guidance.CLASSIFIER_FREE : Guidance.NONE;
        NoiseLevels at = NoiseLevels.of(schedule, t, finalAlphaCumprod, scope);
        NoiseLevels mid = NoiseLevels.of(schedule, tMid, finalAlphaCumprod, scope);
        NoiseLevels next = NoiseLevels.of(schedule, tNext, finalAlphaCumprod, scope);
        NDArray zt = at.noise(x0, eps);
        NDArray cond = text.encode(batch.captions(), scope);
        boolean needsUncond = teacherGuidance.needsUnconditional() || studentGuidance.needsUnconditional();
        NDArray uncond = needsUncond ? text.encode(Collections.nCopies(b, ""), scope) : null;

        // teacher: two DDIM steps t -> t' -> t'' (no gradient: its weights never require one)
        Guided t1 = predict(teacher, teacherGuidance, settings.teacherPrediction(), zt, at, cond, uncond, w, false);
        NDArray zMid = mid.noise(t1.x0(), t1.eps());
        Guided t2 = predict(teacher, teacherGuidance, settings.teacherPrediction(), zMid, mid, cond, uncond, w,
                false);
        NDArray zNext = next.noise(t2.x0(), t2.eps());
        NDArray target = oneStepTarget(zt, zNext, at, next).stopGradient();
        float[] snrWeight = new float[b];
        for (int i = 0; i < b; i++) {
            double a = at.alphaCumprod()[i];
            snrWeight[i] = (float) Math.max(a / (1 - a), 1);
        }
        Shape perExample = new Shape(b, 1, 1, 1);

        // student: one step from t, guided the same way (CFG), or one pass reading w (and w = 1 for L_ori)
        Guided s = predict(student, studentGuidance, settings.studentPrediction(), zt, at, cond, uncond, w,
                settings.oriWeight() > 0);
        NDArray distill = s.x0().sub(target).square().mul(scope.create(snrWeight, perExample)).mean();
        double dValue = distill.toFloatArray()[0];
        if (s.conditional() == null) {
            lastTerms = new Terms(dValue, Double.NaN, cfg);
            return distill;
        }
        NDArray original = s.conditional().sub(at.target(settings.studentPrediction(), x0, eps)).square().mean();
        double oValue = original.toFloatArray()[0];
        double gamma = settings.dynamicOriWeight()
                ? (oValue > 0 ? settings.oriWeight() * dValue / oValue : 0) : settings.oriWeight();
        lastTerms = new Terms(dValue, oValue, cfg);
        return gamma == 0 ? distill : distill.add(Ops.mulScalar(original, gamma));
    }

    /**
     * The x0 that a single DDIM step from z_t at {@code at} must predict to land exactly on {@code zNext} at
     * {@code next}: (z'' - (sigma''/sigma) z_t) / (alpha'' - (sigma''/sigma) alpha).
     */
    static NDArray oneStepTarget(NDArray zt, NDArray zNext, NoiseLevels at, NoiseLevels next) {
        int b = at.t().length;
        float[] ratioSigma = new float[b];
        float[] denominator = new float[b];
        for (int i = 0; i < b; i++) {
            double alphaT = Math.sqrt(at.alphaCumprod()[i]);
            double sigmaT = Math.sqrt(1 - at.alphaCumprod()[i]);
            double alphaN = Math.sqrt(next.alphaCumprod()[i]);
            double sigmaN = Math.sqrt(1 - next.alphaCumprod()[i]);
            ratioSigma[i] = (float) (sigmaN / sigmaT);
            denominator[i] = (float) (alphaN - sigmaN / sigmaT * alphaT);
        }
        NDManager scope = zt.getManager();
        Shape perExample = new Shape(b, 1, 1, 1);
        return zNext.sub(zt.mul(scope.create(ratioSigma, perExample))).div(scope.create(denominator, perExample));
    }

    /**
     * A guided prediction as (x0, eps) and the raw output at scale 1 (the conditional half of a CFG pair), or null
     * where that is not computed.
     */
    record Guided(NDArray x0, NDArray eps, NDArray conditional) {}

    /** The guided prediction of {@code net} at z on {@code levels}, as (x0, eps) in the net's prediction type. */
    private static Guided predict(GuidedDenoiser net, Guidance guidance, PredictionType type, NDArray z,
            NoiseLevels levels, NDArray cond, NDArray uncond, double[] w, boolean withConditional) {
        GuidedDenoiser.Prediction p = net.predict(guidance, z, levels.timesteps(z.getManager()), cond, uncond, w,
                withConditional);
        return new Guided(levels.x0(type, p.guided(), z), levels.eps(type, p.guided(), z), p.conditional());
    }

    List<Integer> grid() {
        return Arrays.stream(grid).boxed().toList();
    }
}
