package dev.mdx.schedule;

/**
 * The numpy float64 routines diffusers' set_timesteps uses, with numpy's exact formulas, so that integer timesteps
 * (compared exactly) and interpolated sigmas come out identical.
 */
final class NumpyCompat {
    private NumpyCompat() {}

    /** {@code np.linspace(start, stop, num)}: i * ((stop - start) / (num - 1)) + start, the last value set to stop. */
    static double[] linspace(double start, double stop, int num) {
        double[] y = new double[num];
        if (num == 1) {
            y[0] = start;
            return y;
        }
        double delta = stop - start;
        double step = delta / (num - 1);
        for (int i = 0; i < num; i++) {
            y[i] = step == 0 ? i / (double) (num - 1) * delta + start : i * step + start;
        }
        y[num - 1] = stop;
        return y;
    }

    /**
     * {@code np.arange(start, stop, step)} for doubles: ceil((stop - start) / step) values start + i * delta, where
     * numpy takes delta = (start + step) - start.
     */
    static double[] arange(double start, double stop, double step) {
        int length = (int) Math.max(0, Math.ceil((stop - start) / step));
        double[] y = new double[length];
        if (length == 0) {
            return y;
        }
        y[0] = start;
        if (length > 1) {
            y[1] = start + step;
            double delta = y[1] - y[0];
            for (int i = 2; i < length; i++) {
                y[i] = start + i * delta;
            }
        }
        return y;
    }

    /** {@code np.round}: half to even. */
    static long round(double x) {
        return (long) Math.rint(x);
    }

    /**
     * {@code np.interp(x, arange(len(fp)), fp)} for fp stored as float32: clamps outside, returns fp[j] exactly at
     * a knot, else slope * (x - j) + fp[j] in double.
     */
    static double interpAtIndex(double x, float[] fp) {
        int last = fp.length - 1;
        if (x <= 0) {
            return fp[0];
        }
        if (x >= last) {
            return fp[last];
        }
        int j = (int) Math.floor(x);
        if (j == x) {
            return fp[j];
        }
        double slope = (double) fp[j + 1] - fp[j];
        return slope * (x - j) + fp[j];
    }
}
