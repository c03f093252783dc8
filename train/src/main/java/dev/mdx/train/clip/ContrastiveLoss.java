package dev.mdx.train.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.mdx.tensor.Ops;

/**
 * CLIP's symmetric InfoNCE loss (Radford et al. 2021, fig. 3): cosine similarities of every image with every text
 * of the batch, scaled by the learned temperature, and the mean of the cross-entropies image-to-text and
 * text-to-image. When several pairs of a batch share a caption (or class), each of them is a correct answer: the
 * target of a row is spread evenly over the columns of its group. With all groups distinct this is exactly CLIP's
 * loss with targets arange(B).
 */
public final class ContrastiveLoss {
    private static final float NORM_EPS = 1e-12f;

    private ContrastiveLoss() {}

    /**
     * @param imageEmbeds (B, P), not normalised
     * @param textEmbeds (B, P), not normalised; row i is the text of image i
     * @param scale (1) multiplier of the cosine similarities, e.g. {@link ClipModel#logitScale}
     * @param groups length B; pairs with equal values count as matches of each other
     * @return the scalar loss, in the manager of {@code imageEmbeds}
     */
    public static NDArray symmetricInfoNce(NDArray imageEmbeds, NDArray textEmbeds, NDArray scale, int[] groups) {
        long batch = imageEmbeds.getShape().get(0);
        if (!textEmbeds.getShape().equals(imageEmbeds.getShape()) || groups.length != batch) {
            throw new IllegalArgumentException("image embeds " + imageEmbeds.getShape() + ", text embeds "
                    + textEmbeds.getShape() + " and " + groups.length + " groups do not match");
        }
        // (B, P) x (P, B) -> (B_image, B_text)
        NDArray logits = normalize(imageEmbeds).matMul(normalize(textEmbeds).transpose()).mul(scale);
        NDArray targets = imageEmbeds.getManager().create(targets(groups), new Shape(batch, batch));
        // the relation is symmetric and every row of a group has the same count, so the targets of texts are the same
        NDArray imageToText = targets.mul(logits.logSoftmax(1)).sum(new int[] {1}).mean().neg();
        NDArray textToImage = targets.mul(logits.transpose().logSoftmax(1)).sum(new int[] {1}).mean().neg();
        return Ops.mulScalar(imageToText.add(textToImage), 0.5);
    }

    /** Rows of x divided by their L2 norms. */
    static NDArray normalize(NDArray x) {
        return x.div(x.square().sum(new int[] {-1}, true).add(NORM_EPS).sqrt());
    }

    /** (B, B) row-stochastic: 1 / |group(i)| where group(j) == group(i). */
    static float[] targets(int[] groups) {
        int n = groups.length;
        float[] t = new float[n * n];
        for (int i = 0; i < n; i++) {
            int count = 0;
            for (int j = 0; j < n; j++) {
                if (groups[i] == groups[j]) {
                    count++;
                }
            }
            for (int j = 0; j < n; j++) {
                if (groups[i] == groups[j]) {
                    t[i * n + j] = 1f / count;
                }
            }
        }
        return t;
    }
}
