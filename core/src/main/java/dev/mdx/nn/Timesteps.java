package dev.mdx.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * diffusers' {@code get_timestep_embedding} (sinusoidal, no weights): exponent = -ln(maxPeriod) * i / (half -
 * freqShift), emb = t * exp(exponent), cat[sin, cos] or cat[cos, sin] when flipSinToCos. Computed in float32 with
 * the same operation order as diffusers, then cast to the requested type.
 */
public final class Timesteps {
    private static final double MAX_PERIOD = 10000;

    private final int dim;
    private final boolean flipSinToCos;
    private final double freqShift;

    public Timesteps(int dim, boolean flipSinToCos, double freqShift) {
        if (dim < 2 || dim / 2 - freqShift == 0) {
            throw new IllegalArgumentException("timestep embedding dim " + dim + " with freq shift " + freqShift);
        }
        this.dim = dim;
        this.flipSinToCos = flipSinToCos;
        this.freqShift = freqShift;
    }

    /** (B,) timesteps, fractional allowed -> (B, dim) of type {@code as}. */
    public NDArray forward(NDArray timesteps, DataType as) {
        NDManager m = timesteps.getManager();
        int half = dim / 2;
        NDArray exponent = m.arange(0, half, 1, DataType.FLOAT32)
                .mul((float) -Math.log(MAX_PERIOD))
                .div((float) (half - freqShift));
        // (B,) x (half,) -> (B, half)
        NDArray args = timesteps.toType(DataType.FLOAT32, false).reshape(-1, 1).mul(exponent.exp().reshape(1, -1));
        NDArray sin = args.sin();
        NDArray cos = args.cos();
        NDArray emb = flipSinToCos ? cos.concat(sin, 1) : sin.concat(cos, 1);
        if (dim % 2 == 1) {
            emb = emb.concat(m.zeros(new Shape(emb.getShape().get(0), 1)), 1);
        }
        return emb.toType(as, false);
    }

    public int dim() {
        return dim;
    }
}
