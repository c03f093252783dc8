package dev.mdx.schedule;

/**
 * The inference timesteps diffusers' schedulers pick for n steps out of N training timesteps, descending. Integer
 * grids must match diffusers exactly, so the numpy formulas are followed literally (see {@link NumpyCompat}).
 */
public final class TimestepGrid {
    private TimestepGrid() {}

    /** DDPM / DDIM / Euler (leading, trailing) timesteps: n values per the spacing, steps_offset for leading only. */
    public static int[] discrete(TimestepSpacing spacing, int n, int numTrain, int stepsOffset) {
        checkSteps(n, numTrain);
        int[] t = new int[n];
        switch (spacing) {
            case LEADING -> {
                int ratio = numTrain / n;
                for (int i = 0; i < n; i++) {
                    t[i] = (n - 1 - i) * ratio + stepsOffset;
                }
            }
            case TRAILING -> t = trailing(numTrain, numTrain, n);
            case LINSPACE -> {
                double[] y = NumpyCompat.linspace(0, numTrain - 1, n);
                for (int i = 0; i < n; i++) {
                    t[i] = (int) NumpyCompat.round(y[n - 1 - i]);
                }
            }
        }
        return checkRange(t, numTrain, spacing);
    }

    /** Euler's linspace timesteps: float32 linspace(0, N - 1, n), descending, not rounded. */
    public static float[] linspaceFloat(int n, int numTrain) {
        checkSteps(n, numTrain);
        double[] y = NumpyCompat.linspace(0, numTrain - 1, n);
        float[] t = new float[n];
        for (int i = 0; i < n; i++) {
            t[i] = (float) y[n - 1 - i];
        }
        return t;
    }

    /**
     * DPMSolverMultistep's timesteps: the spacing applied to a grid of n + 1 points whose lowest point is dropped, up
     * to {@code lastTimestep} (N unless lambda_min_clipped removes the noisiest timesteps).
     */
    public static int[] dpmSolver(TimestepSpacing spacing, int n, int lastTimestep, int numTrain, int stepsOffset) {
        checkSteps(n, numTrain);
        int[] t = new int[n];
        switch (spacing) {
            case LINSPACE -> {
                double[] y = NumpyCompat.linspace(0, lastTimestep - 1, n + 1);
                for (int i = 0; i < n; i++) {
                    t[i] = (int) NumpyCompat.round(y[n - i]);
                }
            }
            case LEADING -> {
                int ratio = lastTimestep / (n + 1);
                for (int i = 0; i < n; i++) {
                    t[i] = (n - i) * ratio + stepsOffset;
                }
            }
            case TRAILING -> t = trailing(lastTimestep, numTrain, n);
        }
        return checkRange(t, numTrain, spacing);
    }

    /**
     * LCM's timesteps: n points taken at floor(linspace(0, K, n, endpoint=False)) from the descending grid
     * k * (N // K) - 1 of the K = original_inference_steps the model was distilled with.
     */
    public static int[] lcm(int n, int numTrain, int originalSteps) {
        if (originalSteps < 1 || originalSteps > numTrain) {
            throw new IllegalArgumentException("original_inference_steps " + originalSteps + " must be in [1, "
                    + numTrain + "]");
        }
        if (n < 1 || n > originalSteps) {
            throw new IllegalArgumentException("LCM supports 1 to original_inference_steps (" + originalSteps
                    + ") steps, got " + n);
        }
        int k = numTrain / originalSteps;
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            int index = (int) Math.floor(i * ((double) originalSteps / n));
            t[i] = (originalSteps - index) * k - 1;
        }
        return t;
    }

    /** round(arange(start, 0, -N / n)) - 1, the first n values (numpy's arange yields an extra ~0 for some n). */
    private static int[] trailing(int start, int numTrain, int n) {
        double[] y = NumpyCompat.arange(start, 0, -((double) numTrain / n));
        int[] t = new int[Math.min(n, y.length)];
        for (int i = 0; i < t.length; i++) {
            t[i] = (int) NumpyCompat.round(y[i]) - 1;
        }
        return t;
    }

    private static void checkSteps(int n, int numTrain) {
        if (n < 1 || n > numTrain) {
            throw new IllegalArgumentException("number of steps must be in [1, num_train_timesteps = " + numTrain
                    + "], got " + n);
        }
    }

    private static int[] checkRange(int[] t, int numTrain, TimestepSpacing spacing) {
        for (int v : t) {
            if (v < 0 || v >= numTrain) {
                throw new IllegalArgumentException("timestep_spacing " + spacing.jsonName() + " with steps_offset gives"
                        + " timestep " + v + " outside [0, " + numTrain + ")");
            }
        }
        return t;
    }
}
