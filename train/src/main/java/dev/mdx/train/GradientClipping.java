package dev.mdx.train;

import ai.djl.ndarray.NDArray;
import dev.mdx.MdxException;
import java.util.Collection;

/** Clipping by global norm, as torch.nn.utils.clip_grad_norm_ does it. */
public final class GradientClipping {
    /** PyTorch adds this to the norm before dividing, so a zero gradient never divides by zero. */
    static final double NORM_EPS = 1e-6;

    private GradientClipping() {}

    /**
     * The error of a run whose loss or gradients became NaN or infinite: the settings (learning rate, clipping) made
     * it diverge, so it is the user's to fix, not a fault of mdx.
     */
    static MdxException diverged(String what) {
        return new MdxException(what + ": training diverged (lower the learning rate or set max_grad_norm)");
    }

    /** The L2 norm of all gradients taken together, accumulated in double. */
    public static double globalNorm(Collection<NDArray> grads) {
        double sumSquares = 0;
        for (NDArray g : grads) {
            try (NDArray sq = g.square(); NDArray s = sq.sum()) {
                sumSquares += s.getFloat();
            }
        }
        return Math.sqrt(sumSquares);
    }

    /**
     * Scales every gradient in place by {@code maxNorm / (norm + 1e-6)} when that is below 1; returns the norm
     * before clipping. {@code maxNorm <= 0} only measures.
     */
    public static double clipByGlobalNorm(Collection<NDArray> grads, double maxNorm) {
        double norm = globalNorm(grads);
        if (!Double.isFinite(norm)) {
            throw diverged("gradient norm is " + norm);
        }
        if (maxNorm > 0) {
            double coef = maxNorm / (norm + NORM_EPS);
            if (coef < 1.0) {
                for (NDArray g : grads) {
                    g.muli((float) coef);
                }
            }
        }
        return norm;
    }
}
