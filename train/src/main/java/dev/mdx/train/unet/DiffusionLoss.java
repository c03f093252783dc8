package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
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
    private final ClipTextModel textEncoder;
    private final ClipTokenizer tokenizer;
    private final NoiseSchedule schedule;
    private final PredictionType prediction;

    public DiffusionLoss(UNet2DConditionModel unet, ClipTextModel textEncoder, ClipTokenizer tokenizer,
            NoiseSchedule schedule, PredictionType prediction) {
        if (prediction == PredictionType.SAMPLE) {
            throw new IllegalArgumentException("training supports epsilon and v_prediction, not sample");
        }
        this.unet = unet;
        this.textEncoder = textEncoder;
        this.tokenizer = tokenizer;
        this.schedule = schedule;
        this.prediction = prediction;
    }

    @Override
    public NDArray loss(LatentBatch batch, StepContext ctx) {
        NDManager scope = ctx.scope();
        NDArray x0 = batch.latents();
        int b = (int) x0.getShape().get(0);
        int steps = schedule.numTrainTimesteps();
        float[] t = new float[b];
        float[] sqrtA = new float[b];
        float[] sqrtOneMinusA = new float[b];
        for (int i = 0; i < b; i++) {
            int ti = ctx.rng().nextInt(steps);
            double a = schedule.alphaCumprod(ti);
            t[i] = ti;
            sqrtA[i] = (float) Math.sqrt(a);
            sqrtOneMinusA[i] = (float) Math.sqrt(1 - a);
        }
        NDArray eps = ctx.rng().randn(scope, x0.getShape());
        Shape perExample = new Shape(b, 1, 1, 1);
        NDArray ca = scope.create(sqrtA, perExample);
        NDArray cs = scope.create(sqrtOneMinusA, perExample);
        NDArray noisy = x0.mul(ca).add(eps.mul(cs));
        NDArray context = encode(batch.captions(), scope);
        NDArray predicted = unet.forward(noisy, scope.create(t), context);
        NDArray target = prediction == PredictionType.EPSILON ? eps : eps.mul(ca).sub(x0.mul(cs));
        return predicted.sub(target).square().mean();
    }

    /** (B,) captions -> (B, 77, D) last hidden states of the frozen text encoder. */
    NDArray encode(List<String> captions, NDManager scope) {
        NDArray ids = ClipTokenizer.inputIds(captions.stream().map(tokenizer::encode).toList(), scope);
        return textEncoder.forward(ids).lastHiddenState().stopGradient();
    }
}
