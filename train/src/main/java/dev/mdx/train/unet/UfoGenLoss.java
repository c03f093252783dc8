package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.schedule.PredictionType;
import dev.mdx.tensor.Ops;
import dev.mdx.train.LossFunction;
import dev.mdx.train.StepContext;
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
 * reference code does). Phase {@value #GENERATOR} is the generator, {@value #DISCRIMINATOR} the discriminator.
 */
public final class UfoGenLoss implements LossFunction<LatentBatch> {
    public static final int GENERATOR = 0;
    public static final int DISCRIMINATOR = 1;

    /**
     * @param stepGap k: the discriminator judges x_{t-k}
     * @param logitClamp m: the reference clamps logits at +-0.5 (see the class formula)
     */
    public record Settings(int stepGap, double reconstructionWeight, double adversarialWeight, double logitClamp) {}

    /** The terms of one step, for logs: D step: adversarial = D loss; mean logits of real and fake samples. */
    public record Terms(long step, int phase, double adversarial, double reconstruction, double realLogit,
            double fakeLogit) {}

    private final UfoGenModels models;
    private final DiffusionLoss denoising;
    private final NoiseSchedule schedule;
    private final PredictionType prediction;
    private final Settings settings;
    private final Consumer<Terms> terms;

    public UfoGenLoss(UfoGenModels models, TextConditioning text, NoiseSchedule schedule, PredictionType prediction,
            Settings settings, Consumer<Terms> terms) {
        if (settings.stepGap() < 1 || settings.stepGap() >= schedule.numTrainTimesteps()) {
            throw new IllegalArgumentException("step_gap must be in [1, " + schedule.numTrainTimesteps() + "), got "
                    + settings.stepGap());
        }
        this.models = models;
        this.denoising = new DiffusionLoss(models.generator, text.textEncoder(), text.tokenizer(), schedule, prediction);
        this.schedule = schedule;
        this.prediction = prediction;
        this.settings = settings;
        this.terms = terms;
    }

    @Override
    public NDArray loss(LatentBatch batch, StepContext ctx) {
        NDManager scope = ctx.scope();
        DiffusionLoss.Denoised g = denoising.denoise(batch, ctx, 1);
        NDArray x0Pred = g.levels().x0(prediction, g.predicted(), g.noisy());
        int[] tPrev = g.levels().t().clone();
        for (int i = 0; i < tPrev.length; i++) {
            tPrev[i] = Math.max(tPrev[i] - settings.stepGap(), 0);
        }
        NoiseLevels prev = NoiseLevels.of(schedule, tPrev, 1f, scope);
        NDArray tInput = prev.timesteps(scope);
        Shape shape = batch.latents().getShape();
        float m = (float) settings.logitClamp();
        NDArray upper = scope.full(new Shape(), m);
        NDArray lower = scope.full(new Shape(), -m);
        if (ctx.phase() == DISCRIMINATOR) {
            NDArray real = prev.noise(batch.latents(), ctx.rng().randn(scope, shape));
            NDArray fake = prev.noise(x0Pred.stopGradient(), ctx.rng().randn(scope, shape));
            NDArray logits = models.discriminator.forward(NDArrays.concat(new NDList(fake, real), 0),
                    NDArrays.concat(new NDList(tInput, tInput), 0),
                    NDArrays.concat(new NDList(g.context(), g.context()), 0));
            NDList halves = logits.split(2, 0);
            NDArray fakeLogits = halves.get(0);
            NDArray realLogits = halves.get(1);
            NDArray loss = softplus(fakeLogits.maximum(lower), scope).mean()
                    .add(softplus(realLogits.minimum(upper).neg(), scope).mean());
            report(ctx, loss, g.loss(), realLogits, fakeLogits);
            return loss;
        }
        if (ctx.phase() != GENERATOR) {
            throw new IllegalStateException("UFOGen has phases 0 (generator) and 1 (discriminator), got " + ctx.phase());
        }
        NDArray fake = prev.noise(x0Pred, ctx.rng().randn(scope, shape));
        NDArray fakeLogits = models.discriminator.forward(fake, tInput, g.context());
        NDArray adversarial = softplus(fakeLogits.minimum(upper).neg(), scope).mean();
        NDArray loss = Ops.mulScalar(adversarial, settings.adversarialWeight())
                .add(Ops.mulScalar(g.loss(), settings.reconstructionWeight()));
        report(ctx, adversarial, g.loss(), null, fakeLogits);
        return loss;
    }

    /** log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), stable for any x; the 0 is an array kept alive by the scope. */
    static NDArray softplus(NDArray x, NDManager scope) {
        return x.maximum(scope.zeros(new Shape())).add(x.abs().neg().exp().add(1f).log());
    }

    private void report(StepContext ctx, NDArray adversarial, NDArray reconstruction, NDArray real, NDArray fake) {
        if (terms != null) {
            terms.accept(new Terms(ctx.step(), ctx.phase(), value(adversarial), value(reconstruction),
                    real == null ? Double.NaN : value(real.mean()), value(fake.mean())));
        }
    }

    private static double value(NDArray scalar) {
        return scalar.toFloatArray()[0];
    }
}
