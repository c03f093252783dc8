package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.nn.GuidanceEmbedding;
import dev.mdx.nn.Probe;
import dev.mdx.unet.ControlResiduals;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.schedule.PredictionType;
import dev.mdx.text.ClipTextModel;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.train.LossFunction;
import dev.mdx.train.StepContext;
import dev.mdx.unet.UNet2DConditionModel;
import java.util.List;

/**
 * The denoising objective: x_t = sqrt(a_t) x_0 + sqrt(1 - a_t) eps with t uniform over the training timesteps,
 * and the mean squared error of the UNet's prediction against eps (epsilon prediction) or
 * v = sqrt(a_t) eps - sqrt(1 - a_t) x_0 (v prediction). The text encoder is frozen.
 */
public final class DiffusionLoss implements LossFunction<LatentBatch> {
    private final UNet2DConditionModel unet;
    private final TextConditioning text;
    private final NoiseSchedule schedule;
    private final PredictionType prediction;
    /** For a UNet that takes the guidance scale as an input (time_cond_proj_dim): it is trained unguided, scale 1. */
    private final GuidanceEmbedding embedding;

    public DiffusionLoss(UNet2DConditionModel unet, ClipTextModel textEncoder, ClipTokenizer tokenizer,
            NoiseSchedule schedule, PredictionType prediction) {
        this(unet, textEncoder, tokenizer, schedule, prediction, null);
    }

    /** @param embedding the UNet's guidance embedding if it has one (then it is fed scale 1), else null */
    public DiffusionLoss(UNet2DConditionModel unet, ClipTextModel textEncoder, ClipTokenizer tokenizer,
            NoiseSchedule schedule, PredictionType prediction, GuidanceEmbedding embedding) {
        if (prediction == PredictionType.SAMPLE) {
            throw new IllegalArgumentException("training supports epsilon and v_prediction, not sample");
        }
        this.unet = unet;
        this.text = new TextConditioning(textEncoder, tokenizer);
        this.schedule = schedule;
        this.prediction = prediction;
        this.embedding = embedding;
    }

    @Override
    public NDArray loss(LatentBatch batch, StepContext ctx) {
        return denoise(batch, ctx).loss();
    }

    /** One forward pass of the objective: the noisy input, its noise levels, the prediction and the loss. */
    record Denoised(NDArray noisy, NoiseLevels levels, NDArray context, NDArray predicted, NDArray loss) {}

    /** The objective at t ~ U{minT, ..., N-1} (and its intermediates, which UFOGen's generator step reuses). */
    Denoised denoise(LatentBatch batch, StepContext ctx, int minT) {
        return denoise(batch, ctx, minT, NoiseEmphasis.NONE);
    }

    /**
     * The clean samples the examples are regressed to, when not the data: given the data x0, the noisy input x_t and
     * the timesteps, (B, C, h, w) targets (the data's row where an example keeps it). The loss then asks for the
     * eps or v that takes x_t to that target. Null keeps the data (and the drawn noise) for every example.
     */
    interface CleanTargets {
        NDArray of(NDArray data, NDArray noisy, int[] t, NDArray context, NDManager scope);
    }

    /** The objective with timesteps drawn and examples weighted by {@code emphasis}. */
    Denoised denoise(LatentBatch batch, StepContext ctx, int minT, NoiseEmphasis emphasis) {
        return denoise(batch, ctx, minT, emphasis, null);
    }

    /** As {@link #denoise(LatentBatch, StepContext, int, NoiseEmphasis)}, regressing to {@code targets} (null: data). */
    Denoised denoise(LatentBatch batch, StepContext ctx, int minT, NoiseEmphasis emphasis, CleanTargets targets) {
        int b = (int) batch.latents().getShape().get(0);
        int steps = schedule.numTrainTimesteps();
        int[] t = new int[b];
        for (int i = 0; i < b; i++) {
            t[i] = emphasis.draw(ctx.rng(), minT, steps);
        }
        return denoise(batch, ctx, t, null, emphasis, targets);
    }

    /** The objective at the given timesteps (B,) with a control adapter's features in the UNet (null: none). */
    Denoised denoise(LatentBatch batch, StepContext ctx, int[] t, ControlResiduals control) {
        return denoise(batch, ctx, t, control, NoiseEmphasis.NONE, null);
    }

    private Denoised denoise(LatentBatch batch, StepContext ctx, int[] t, ControlResiduals control,
            NoiseEmphasis emphasis, CleanTargets targets) {
        NDManager scope = ctx.scope();
        NDArray x0 = batch.latents();
        int b = (int) x0.getShape().get(0);
        NDArray eps = ctx.rng().randn(scope, x0.getShape());
        NoiseLevels levels = NoiseLevels.of(schedule, t, 1f, scope);
        NDArray noisy = levels.noise(x0, eps);
        NDArray context = text.encode(batch.captions(), scope);
        NDArray unguided = embedding == null ? null : embedding.unguided(b, scope);
        NDArray predicted = unet.forward(noisy, levels.timesteps(scope), context, unguided, control, Probe.off());
        NDArray clean = targets == null ? null : targets.of(x0, noisy, t, context, scope);
        NDArray target = clean == null ? levels.target(prediction, x0, eps)
                : levels.target(prediction, clean, levels.eps(PredictionType.SAMPLE, clean, noisy));
        NDArray squared = predicted.sub(target).square();
        if (!emphasis.weighted()) {
            return new Denoised(noisy, levels, context, predicted, squared.mean());
        }
        float[] w = new float[b];
        for (int i = 0; i < b; i++) {
            w[i] = emphasis.weight(schedule, t[i]);
        }
        // (B, C, H, W) -> per-example mean (B,) times its weight, then the batch mean
        NDArray perExample = squared.reshape(b, -1).mean(new int[] {1});
        return new Denoised(noisy, levels, context, predicted, perExample.mul(scope.create(w)).mean());
    }

    int numTrainTimesteps() {
        return schedule.numTrainTimesteps();
    }

    Denoised denoise(LatentBatch batch, StepContext ctx) {
        return denoise(batch, ctx, 0);
    }

    /** (B,) captions -> (B, 77, D) last hidden states of the frozen text encoder. */
    NDArray encode(List<String> captions, NDManager scope) {
        return text.encode(captions, scope);
    }
}
