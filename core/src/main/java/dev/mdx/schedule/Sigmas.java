package dev.mdx.schedule;

/** Inference sigma grids: the training sigmas read at (fractional) timesteps, and Karras et al.'s rho-spacing. */
public final class Sigmas {
    /** rho of Karras et al. 2022 (EDM), eq. 5. */
    public static final double KARRAS_RHO = 7.0;

    private Sigmas() {}

    /** sigma at each timestep, linearly interpolated between training timesteps like {@code np.interp}. */
    public static double[] atTimesteps(NoiseSchedule schedule, double[] timesteps) {
        float[] table = schedule.sigmas();
        double[] out = new double[timesteps.length];
        for (int i = 0; i < timesteps.length; i++) {
            out[i] = NumpyCompat.interpAtIndex(timesteps[i], table);
        }
        return out;
    }

    /**
     * Karras et al. 2022 eq. 5: n sigmas from sigmaMax down to sigmaMin, uniform in sigma^(1/rho), in double as
     * numpy computes them (a single step gives sigmaMax alone).
     */
    public static double[] karras(double sigmaMin, double sigmaMax, int n) {
        double[] ramp = NumpyCompat.linspace(0, 1, n);
        double minInvRho = Math.pow(sigmaMin, 1 / KARRAS_RHO);
        double maxInvRho = Math.pow(sigmaMax, 1 / KARRAS_RHO);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = Math.pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), KARRAS_RHO);
        }
        return out;
    }
}
