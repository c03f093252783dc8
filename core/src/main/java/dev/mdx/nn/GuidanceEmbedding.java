package dev.mdx.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * diffusers' LCM {@code get_guidance_scale_embedding} (no weights): the value a w-conditioned UNet reads through
 * {@code time_embedding.cond_proj}. w' = 1000 w, f_i = exp(-i ln(10000) / (half - 1)) for i < half = dim / 2,
 * emb = cat[sin(w' f), cos(w' f)], zero-padded by one column when dim is odd; float32 throughout as torch computes
 * it. As in diffusers' LCM pipeline, the value embedded is guidance scale - 1 (see {@link #ofScales}).
 */
public final class GuidanceEmbedding {
    /** The smallest width: half - 1 divides the log period, so half must be at least 2. */
    public static final int MIN_DIM = 4;

    private final int dim;

    public GuidanceEmbedding(int dim) {
        if (dim < MIN_DIM) {
            throw new IllegalArgumentException("guidance embedding dim must be at least " + MIN_DIM + ", got " + dim);
        }
        this.dim = dim;
    }

    public int dim() {
        return dim;
    }

    /** (B,) raw values w -> (B, dim) float32 in {@code manager}. */
    public NDArray of(float[] w, NDManager manager) {
        int half = dim / 2;
        float step = (float) Math.log(10000.0) / (half - 1);
        NDArray freqs = manager.arange(0, half, 1, DataType.FLOAT32).mul(-step).exp();
        // (B, 1) x (1, half) -> (B, half)
        NDArray args = manager.create(w, new Shape(w.length, 1)).mul(1000f).mul(freqs.reshape(1, half));
        NDArray emb = args.sin().concat(args.cos(), 1);
        if (dim % 2 == 1) {
            emb = emb.concat(manager.zeros(new Shape(w.length, 1)), 1);
        }
        return emb;
    }

    /**
     * The embedding of classifier-free guidance scales s, i.e. of w = s - 1 (s = 1 is unguided); the subtraction is
     * in double, as the LCM pipeline's {@code torch.tensor(guidance_scale - 1)}.
     */
    public NDArray ofScales(double[] scales, NDManager manager) {
        float[] w = new float[scales.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (scales[i] - 1);
        }
        return of(w, manager);
    }

    /** (batch, dim): the embedding of scale 1 (w = 0, no guidance) for every example, what unguided training feeds. */
    public NDArray unguided(int batch, NDManager manager) {
        return of(new float[batch], manager);
    }
}
