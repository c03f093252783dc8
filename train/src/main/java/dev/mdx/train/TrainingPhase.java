package dev.mdx.train;

import java.util.function.Predicate;

/**
 * A group of parameters that the trainer updates on its own steps, with its own AdamW state: adversarial stages
 * alternate a generator phase and a discriminator phase. Step s trains only the phase the trainer's schedule
 * names for s; the other parameters get no gradient and are not touched (no weight decay, no moment update).
 * Phase 0 is the primary one: the EMA follows its parameters and is updated after its steps, and its optimizer
 * state is saved as {@code optimizer.safetensors} (others as {@code optimizer-NAME.safetensors}).
 *
 * @param name a file-name-safe name ({@code generator}, {@code discriminator})
 * @param keys which parameter keys this phase trains
 * @param adamW this phase's AdamW hyper-parameters
 * @param lrScale this phase's learning rate is the schedule's value times this
 */
public record TrainingPhase(String name, Predicate<String> keys, AdamW.Settings adamW, double lrScale) {
    public TrainingPhase {
        if (!name.matches("[a-z0-9_]+")) {
            throw new IllegalArgumentException("phase name must be [a-z0-9_]+, got '" + name + "'");
        }
        if (!(lrScale > 0) || !Double.isFinite(lrScale)) {
            throw new IllegalArgumentException("phase " + name + ": lr scale must be > 0, got " + lrScale);
        }
    }

    /** Which phase each (0-based) trainer step trains. */
    @FunctionalInterface
    public interface Schedule {
        int phaseAt(long step);

        /** A repeating pattern: step s trains phase {@code pattern[s % pattern.length]}. */
        static Schedule cycle(int... pattern) {
            if (pattern.length == 0) {
                throw new IllegalArgumentException("empty phase pattern");
            }
            int[] p = pattern.clone();
            return step -> p[(int) (step % p.length)];
        }

        /** How many of the steps 0..steps-1 train {@code phase}. */
        default long count(int phase, long steps) {
            long n = 0;
            for (long s = 0; s < steps; s++) {
                if (phaseAt(s) == phase) {
                    n++;
                }
            }
            return n;
        }
    }
}
