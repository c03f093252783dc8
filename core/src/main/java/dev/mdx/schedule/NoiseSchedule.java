package dev.mdx.schedule;

/**
 * The training noise schedule of a {@link ScheduleConfig}: betas, alphas_cumprod (a_t, often written alpha-bar) and
 * the sigma of every training timestep, computed once, immutable, shared by all samplers and runs.
 *
 * <p>All arrays are float32 and computed with the rounding PyTorch uses, so they equal diffusers' tensors bit for
 * bit (see {@link TorchFloat32}).
 */
public final class NoiseSchedule {
    /** Stand-in for a_T = 0 under zero terminal SNR, so that sigma_T stays finite (diffusers uses the same). */
    private static final float ZERO_SNR_ALPHA_CUMPROD = 0x1p-24f;

    private final ScheduleConfig config;
    private final float[] betas;
    private final float[] alphasCumprod;
    private final float[] sigmas;
    private final float[] logSigmas;

    private NoiseSchedule(ScheduleConfig config) {
        this.config = config;
        float[] b = Betas.of(config);
        if (config.rescaleBetasZeroSnr()) {
            b = Betas.rescaleZeroTerminalSnr(b);
        }
        this.betas = b;
        float[] alphas = new float[b.length];
        for (int i = 0; i < b.length; i++) {
            alphas[i] = 1f - b[i];
        }
        this.alphasCumprod = TorchFloat32.cumprod(alphas);
        this.sigmas = new float[b.length];
        this.logSigmas = new float[b.length];
        for (int t = 0; t < b.length; t++) {
            float a = alphasCumprod[t];
            if (config.rescaleBetasZeroSnr() && t == b.length - 1) {
                a = ZERO_SNR_ALPHA_CUMPROD;
            }
            sigmas[t] = TorchFloat32.sqrt((1f - a) / a);
            logSigmas[t] = (float) Math.log(sigmas[t]);
        }
    }

    public static NoiseSchedule of(ScheduleConfig config) {
        return new NoiseSchedule(config);
    }

    public ScheduleConfig config() {
        return config;
    }

    public int numTrainTimesteps() {
        return betas.length;
    }

    public float[] betas() {
        return betas.clone();
    }

    public float[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    /** a_t = prod_{s <= t} (1 - beta_s) for a training timestep t in [0, N). */
    public float alphaCumprod(int t) {
        checkTimestep(t);
        return alphasCumprod[t];
    }

    /** sigma_t = sqrt((1 - a_t) / a_t), the noise level of timestep t in the variance-exploding parameterization. */
    public float sigma(int t) {
        checkTimestep(t);
        return sigmas[t];
    }

    /** sigma_t for every training timestep, ascending in t. */
    public float[] sigmas() {
        return sigmas.clone();
    }

    /** float32 log(sigma_t) for every training timestep (numpy's {@code np.log} of the float32 sigmas). */
    public float[] logSigmas() {
        return logSigmas.clone();
    }

    /**
     * The fractional training timestep whose sigma is {@code sigma}, interpolating log-sigma linearly (diffusers'
     * {@code _sigma_to_t}, with numpy 1.x's float32 arithmetic so that rounded Karras timesteps match exactly).
     */
    public double sigmaToTimestep(double sigma) {
        float logSigma = (float) Math.log(Math.max(sigma, 1e-10));
        int lastNonNegative = -1;
        for (int i = 0; i < logSigmas.length; i++) {
            if (logSigma - logSigmas[i] >= 0) {
                lastNonNegative = i;
            }
        }
        int low = Math.min(Math.max(lastNonNegative, 0), logSigmas.length - 2);
        float lowLog = logSigmas[low];
        float highLog = logSigmas[low + 1];
        float w = (lowLog - logSigma) / (lowLog - highLog);
        w = Math.min(Math.max(w, 0f), 1f);
        return (double) (1f - w) * low + (double) w * (low + 1);
    }

    private void checkTimestep(int t) {
        if (t < 0 || t >= betas.length) {
            throw new IllegalArgumentException("timestep " + t + " outside [0, " + betas.length + ")");
        }
    }
}
