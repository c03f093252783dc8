package dev.mdx.unet;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * Features a control adapter adds to the UNet (diffusers' {@code down_intrablock_additional_residuals}): one per
 * down block, (B or 1, C_i, H_i, W_i) at that block's width and resolution, added to the output of its last
 * resnet/attention pair (before its downsampler, so the skip connection carries it too); and optionally one for
 * the mid block's output. A batch of 1 is broadcast over the UNet's batch (both halves of a guided step).
 *
 * @param down one per down block
 * @param mid added to the mid block's output, or null
 */
public record ControlResiduals(List<NDArray> down, NDArray mid) {
    public ControlResiduals {
        down = List.copyOf(down);
    }

    /** Every residual times {@code scale}, in the manager of each residual. */
    public ControlResiduals scaled(double scale) {
        return new ControlResiduals(down.stream().map(r -> r.mul((float) scale)).toList(),
                mid == null ? null : mid.mul((float) scale));
    }
}
