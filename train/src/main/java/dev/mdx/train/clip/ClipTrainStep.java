package dev.mdx.train.clip;

import ai.djl.ndarray.NDArray;
import dev.mdx.train.LossFunction;

/** The contrastive stage's loss for the trainer: both towers on a batch, then {@link ContrastiveLoss}. */
public final class ClipTrainStep {
    private ClipTrainStep() {}

    public static LossFunction<ClipBatch> loss(ClipModel model) {
        return (batch, ctx) -> loss(model, batch);
    }

    public static NDArray loss(ClipModel model, ClipBatch batch) {
        NDArray imageEmbeds = model.imageEmbeds(batch.images());
        NDArray textEmbeds = model.textEmbeds(batch.inputIds());
        return ContrastiveLoss.symmetricInfoNce(imageEmbeds, textEmbeds, model.logitScale(imageEmbeds),
                batch.groups());
    }
}
