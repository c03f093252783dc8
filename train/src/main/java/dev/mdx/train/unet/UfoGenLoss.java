package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.schedule.PredictionType;
import dev.mdx.tensor.Ops;
import dev.mdx.train.LossFunction;
import dev.mdx.train.StepContext;
import java.util.Collections;
import java.util.function.Consumer;

/**
 * UFOGen's objective (paper-notes 7.2-7.3; Xu et al.'s reference {@code train_ufo.py}), one phase per trainer step:
 *
 * <pre>
 *   t ~ U{1..N-1}, t' = max(t - k, 0), x_t = q(x_0, t), x0' = x0 implied by G(x_t, t, c)
 *   real = sqrt(a_t') x_0 + sqrt(1 - a_t') e1,   fake = sqrt(a_t') x0' + sqrt(1 - a_t') e2   (forward marginals)
 *   D step: softplus(max(D(sg fake), -m)) + softplus(-min(D(real), m))     (BCE with logit clamps, mean per location)
 *   G step: adversarial_weight * softplus(-min(D(fake), m)) + reconstruction_weight * L_denoise(G at x_0, t)
 * </pre>
 *
 * The reconstruction term is the standard denoising loss of the same forward pass (epsilon or v MSE, as the
 * reference code does); with a teacher, the examples at t = N-1 regress to the teacher's sample from the same x_t
 * instead of x_0 (from pure noise the data's conditional mean is a blur; the teacher's sample is one image).
 * Phase {@value #GENERATOR} is the generator, {@value #DISCRIMINATOR} the discriminator.
 * Options: t = N-1 for a share of the examples (the one-step regime, where x0' is blurry), t' drawn uniformly from {0..tPrimeMax} instead of t - k (the discriminator judges the one-step prediction
 * at low noise, as adversarial diffusion distillation judges x0'), and the hinge loss (D: relu(1 - D(real)) +
 * relu(1 + D(fake)); G: -D(fake); no clamps) instead of the clamped BCE.
 */
public final class UfoGenLoss implements LossFunction<LatentBatch> {
    public static final int GENERATOR = 0;
    public static final int DISCRIMINATOR = 1;
    /** Lower edges of the t' buckets the logits are reported by: t' = 0, 1-249, 250-499, 500 and up. */
    static final int[] BUCKETS = {0, 1, 250, 500};

    /**
     * @param stepGap k: the discriminator judges x_{t-k}
     * @param logitClamp m: the reference clamps logits at +-0.5 (see the class formula; BCE only)
     * @param tPrimeMax -1 for t' = max(t - k, 0); else t' ~ U{0..tPrimeMax}, independent of t
     * @param hinge the hinge loss instead of the clamped BCE
     * @param probeEvery every this many steps a G step also measures the gradient norm of each term on the
     *     generator (two extra backward passes); 0 never
     * @param oneStepFraction the probability that an example's t is N-1, the one-step sampler's only timestep,
     *     instead of uniform: at lower t the prediction is close to the data and gives D nothing to judge
     */
    public record Settings(int stepGap, double reconstructionWeight, double adversarialWeight, double logitClamp,
            int tPrimeMax, boolean hinge, int probeEvery, double oneStepFraction) {
        public Settings(int stepGap, double reconstructionWeight, double adversarialWeight, double logitClamp) {
            this(stepGap, reconstructionWeight, adversarialWeight, logitClamp, -1, false, 0, 0);
        }
    }

    /**
     * The terms of one step, for logs. D step: adversarial = D loss; G step: the generator's adversarial term.
     * Accuracies: the share of real (fake) samples whose mean logit is above (below) 0 (NaN where not measured).
     * Logits by t' bucket ({@link #BUCKETS}): mean per-sample logit, NaN for an empty bucket. Gradient norms: of
     * each weighted term on the generator's parameters (G steps with the probe, else NaN).
     */
    public record Terms(long step, int phase, double adversarial, double reconstruction, double realLogit,
            double fakeLogit, double realAccuracy, double fakeAccuracy, double[] realByBucket, double[] fakeByBucket,
            double adversarialGradNorm, double reconstructionGradNorm) {}

    private final UfoGenModels models;
    private final DiffusionLoss denoising;
    private final NoiseSchedule schedule;
    private final PredictionType prediction;
    private final Settings settings;
    private final Consumer<Terms> terms;
    /** Regresses the one-step examples of G steps to its samples instead of the data; null: the data. */
    private final TeacherSampler teacher;
    /** The last window of probeEvery steps whose gradient shares were measured (diagnostics only). */
    private long probedWindow = -1;

    public UfoGenLoss(UfoGenModels models, TextConditioning text, NoiseSchedule schedule, PredictionType prediction,
            Settings settings, Consumer<Terms> terms) {
        this(models, text, schedule, prediction, settings, terms, null);
    }

    /**
     * @param teacher when not null, a G step's examples at t = N-1 (the one-step sampler's timestep; see
     *     {@code oneStepFraction}) are reconstructed towards the teacher's sample from the same noisy input instead
     *     of the data, whose conditional mean at that noise level is a blur
     */
    UfoGenLoss(UfoGenModels models, TextConditioning text, NoiseSchedule schedule, PredictionType prediction,
            Settings settings, Consumer<Terms> terms, TeacherSampler teacher) {
        if (settings.stepGap() < 1 || settings.stepGap() >= schedule.numTrainTimesteps()) {
            throw new IllegalArgumentException("step_gap must be in [1, " + schedule.numTrainTimesteps() + "), got "
                    + settings.stepGap());
        }
        if (settings.tPrimeMax() < -1 || settings.tPrimeMax() >= schedule.numTrainTimesteps()) {
            throw new IllegalArgumentException("t' max must be -1 or in [0, " + schedule.numTrainTimesteps()
                    + "), got " + settings.tPrimeMax());
        }
        this.models = models;
        this.denoising = new DiffusionLoss(models.generator, text.textEncoder(), text.tokenizer(), schedule, prediction);
        this.schedule = schedule;
        this.prediction = prediction;
        this.settings = settings;
        this.terms = terms;
        this.teacher = teacher;
    }

    @Override
    public NDArray loss(LatentBatch batch, StepContext ctx) {
        NDManager scope = ctx.scope();
        // the teacher's samples are only a reconstruction target: a D step does not need them
        DiffusionLoss.Denoised g = denoising.denoise(batch, ctx, 1, NoiseEmphasis.atLastStep(settings.oneStepFraction()),
                teacher != null && ctx.phase() == GENERATOR ? this::teacherTargets : null);
        NDArray x0Pred = g.levels().x0(prediction, g.predicted(), g.noisy());
        int[] tPrev = g.levels().t().clone();
        for (int i = 0; i < tPrev.length; i++) {
            tPrev[i] = settings.tPrimeMax() < 0 ? Math.max(tPrev[i] - settings.stepGap(), 0)
                    : ctx.rng().nextInt(settings.tPrimeMax() + 1);
        }
        NoiseLevels prev = NoiseLevels.of(schedule, tPrev, 1f, scope);
        NDArray tInput = prev.timesteps(scope);
        Shape shape = batch.latents().getShape();
        if (ctx.phase() == DISCRIMINATOR) {
            NDArray real = prev.noise(batch.latents(), ctx.rng().randn(scope, shape));
            NDArray fake = prev.noise(x0Pred.stopGradient(), ctx.rng().randn(scope, shape));
            NDArray logits = models.discriminator.forward(NDArrays.concat(new NDList(fake, real), 0),
                    NDArrays.concat(new NDList(tInput, tInput), 0),
                    NDArrays.concat(new NDList(g.context(), g.context()), 0));
            NDList halves = logits.split(2, 0);
            NDArray fakeLogits = halves.get(0);
            NDArray realLogits = halves.get(1);
            NDArray loss = discriminatorLoss(realLogits, fakeLogits, scope);
            report(ctx, loss, g.loss(), realLogits, fakeLogits, tPrev, Double.NaN, Double.NaN);
            return loss;
        }
        if (ctx.phase() != GENERATOR) {
            throw new IllegalStateException("UFOGen has phases 0 (generator) and 1 (discriminator), got " + ctx.phase());
        }
        NDArray fake = prev.noise(x0Pred, ctx.rng().randn(scope, shape));
        NDArray fakeLogits = models.discriminator.forward(fake, tInput, g.context());
        NDArray adversarial = settings.hinge() ? fakeLogits.mean().neg()
                : softplus(fakeLogits.minimum(scope.full(new Shape(), (float) settings.logitClamp())).neg(), scope)
                        .mean();
        NDArray weightedAdv = Ops.mulScalar(adversarial, settings.adversarialWeight());
        NDArray weightedRec = Ops.mulScalar(g.loss(), settings.reconstructionWeight());
        double advNorm = Double.NaN;
        double recNorm = Double.NaN;
        // the first G step of every window of probeEvery steps (whatever the phase pattern)
        if (settings.probeEvery() > 0 && ctx.step() / settings.probeEvery() != probedWindow) {
            probedWindow = ctx.step() / settings.probeEvery();
            var params = models.generator.namedParameters().values();
            advNorm = GradientShare.norm(weightedAdv, params, scope);
            recNorm = GradientShare.norm(weightedRec, params, scope);
        }
        report(ctx, adversarial, g.loss(), null, fakeLogits, tPrev, advNorm, recNorm);
        return weightedAdv.add(weightedRec);
    }

    /**
     * (B, C, h, w): the teacher's sample for each example at t = N-1, the data's row for the others; null when no
     * example is at N-1.
     */
    private NDArray teacherTargets(NDArray data, NDArray noisy, int[] t, NDArray context, NDManager scope) {
        int last = schedule.numTrainTimesteps() - 1;
        NDList starts = new NDList();
        NDList conds = new NDList();
        for (int i = 0; i < t.length; i++) {
            if (t[i] == last) {
                starts.add(row(noisy, i));
                conds.add(row(context, i));
            }
        }
        if (starts.isEmpty()) {
            return null;
        }
        NDArray uncond = teacher.needsUnconditional()
                ? denoising.encode(Collections.nCopies(starts.size(), ""), scope) : null;
        NDArray taught = teacher.sample(NDArrays.concat(starts, 0), NDArrays.concat(conds, 0), uncond);
        NDList rows = new NDList();
        int k = 0;
        for (int i = 0; i < t.length; i++) {
            rows.add(t[i] == last ? row(taught, k++) : row(data, i));
        }
        return NDArrays.concat(rows, 0);
    }

    /** Row i of a batch with its batch axis kept: (1, ...). */
    private static NDArray row(NDArray batch, int i) {
        return batch.get(new NDIndex().addSliceDim(i, i + 1));
    }

    /** Clamped BCE (the reference) or hinge, means over locations and examples. */
    private NDArray discriminatorLoss(NDArray realLogits, NDArray fakeLogits, NDManager scope) {
        if (settings.hinge()) {
            NDArray zero = scope.zeros(new Shape());
            return fakeLogits.add(1f).maximum(zero).mean().add(realLogits.neg().add(1f).maximum(zero).mean());
        }
        float m = (float) settings.logitClamp();
        return softplus(fakeLogits.maximum(scope.full(new Shape(), -m)), scope).mean()
                .add(softplus(realLogits.minimum(scope.full(new Shape(), m)).neg(), scope).mean());
    }

    /** log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), stable for any x; the 0 is an array kept alive by the scope. */
    static NDArray softplus(NDArray x, NDManager scope) {
        return x.maximum(scope.zeros(new Shape())).add(x.abs().neg().exp().add(1f).log());
    }

    private void report(StepContext ctx, NDArray adversarial, NDArray reconstruction, NDArray real, NDArray fake,
            int[] tPrev, double advNorm, double recNorm) {
        if (terms == null) {
            return;
        }
        float[] realMeans = real == null ? null : perExample(real);
        float[] fakeMeans = perExample(fake);
        terms.accept(new Terms(ctx.step(), ctx.phase(), value(adversarial), value(reconstruction),
                realMeans == null ? Double.NaN : mean(realMeans), mean(fakeMeans),
                realMeans == null ? Double.NaN : share(realMeans, true), share(fakeMeans, false),
                realMeans == null ? nans() : byBucket(realMeans, tPrev), byBucket(fakeMeans, tPrev), advNorm, recNorm));
    }

    /** (B, 1, h, w) logits -> each example's mean logit. */
    private static float[] perExample(NDArray logits) {
        return logits.reshape(logits.getShape().get(0), -1).mean(new int[] {1}).toFloatArray();
    }

    private static double mean(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return s / v.length;
    }

    private static double share(float[] v, boolean positive) {
        int n = 0;
        for (float x : v) {
            if (positive ? x > 0 : x < 0) {
                n++;
            }
        }
        return (double) n / v.length;
    }

    static int bucket(int tPrime) {
        int b = 0;
        while (b + 1 < BUCKETS.length && tPrime >= BUCKETS[b + 1]) {
            b++;
        }
        return b;
    }

    private static double[] byBucket(float[] v, int[] tPrev) {
        double[] sum = new double[BUCKETS.length];
        int[] n = new int[BUCKETS.length];
        for (int i = 0; i < v.length; i++) {
            int b = bucket(tPrev[i]);
            sum[b] += v[i];
            n[b]++;
        }
        for (int b = 0; b < sum.length; b++) {
            sum[b] = n[b] == 0 ? Double.NaN : sum[b] / n[b];
        }
        return sum;
    }

    private static double[] nans() {
        double[] v = new double[BUCKETS.length];
        java.util.Arrays.fill(v, Double.NaN);
        return v;
    }

    private static double value(NDArray scalar) {
        return scalar.toFloatArray()[0];
    }
}
