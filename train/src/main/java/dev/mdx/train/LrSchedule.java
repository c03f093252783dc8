package dev.mdx.train;

/**
 * Linear warmup to {@code peak}, then half a cosine down to {@code floor}.
 *
 * <p>Step {@code s} (0-based, the update about to be made) gets {@code peak * (s + 1) / warmup} during warmup, so
 * no update is wasted at zero and step {@code warmup - 1} is the first at the peak. After warmup the cosine runs
 * from {@code peak} at step {@code warmup} to exactly {@code floor} at the last step {@code total - 1}; steps past
 * the end stay at the floor.
 */
public record LrSchedule(double peak, int warmupSteps, int totalSteps, double floor) {
    public LrSchedule {
        if (!(peak > 0) || Double.isInfinite(peak)) {
            throw new IllegalArgumentException("peak learning rate must be a positive number, got " + peak);
        }
        if (warmupSteps < 0 || totalSteps <= 0) {
            throw new IllegalArgumentException("warmup " + warmupSteps + " and total " + totalSteps
                    + " steps must be non-negative and positive");
        }
        if (!(floor >= 0) || floor > peak) {
            throw new IllegalArgumentException("floor " + floor + " must be between 0 and the peak " + peak);
        }
    }

    public double at(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be non-negative, got " + step);
        }
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        long decaySteps = Math.max(1, totalSteps - warmupSteps - 1);
        double progress = Math.min(1.0, (double) (step - warmupSteps) / decaySteps);
        return floor + (peak - floor) * 0.5 * (1.0 + Math.cos(Math.PI * progress));
    }
}
