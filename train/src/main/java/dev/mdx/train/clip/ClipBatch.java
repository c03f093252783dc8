package dev.mdx.train.clip;

import ai.djl.ndarray.NDArray;

/**
 * A batch of image-caption pairs.
 *
 * @param images (B, C, H, W) float32 in [-1, 1]
 * @param inputIds (B, L) int64 caption ids: BOS, tokens, EOS, padding (L is the longest caption of the batch)
 * @param groups length B; pairs with the same value (same caption or class) match each other in the loss
 */
public record ClipBatch(NDArray images, NDArray inputIds, int[] groups) {
    public ClipBatch {
        long b = images.getShape().get(0);
        if (inputIds.getShape().get(0) != b || groups.length != b) {
            throw new IllegalArgumentException("batch of " + b + " images has " + inputIds.getShape().get(0)
                    + " captions and " + groups.length + " groups");
        }
        groups = groups.clone();
    }

    public int size() {
        return groups.length;
    }

    @Override
    public int[] groups() {
        return groups.clone();
    }
}
