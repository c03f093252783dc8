package dev.mdx.pipeline;

import dev.mdx.sampling.EditStart;

/**
 * An {@link ImageEdit} made ready for a run: the image at the output size, the binary repaint mask and the paste-back
 * alpha (both H x W, null without a mask; the alpha also null when nothing is pasted back), and where the sampling
 * plan is entered.
 */
record PreparedEdit(RgbImage image, float[] mask, float[] pasteAlpha, EditStart start, double strength) {
    boolean masked() {
        return mask != null;
    }
}
