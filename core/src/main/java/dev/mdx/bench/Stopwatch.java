package dev.mdx.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * Median wall time of repeated runs after warm-up, and the process CPU time they took. On a machine shared with
 * other work, wall time overstates the cost; CPU time per thread shows what the code itself spent.
 */
public final class Stopwatch {
    private Stopwatch() {}

    /**
     * Median wall milliseconds, mean process CPU milliseconds per run, and the fastest and slowest run (the spread a
     * noisy machine gives).
     */
    public record Timing(double wallMs, double cpuMs, double minMs, double maxMs) {
        /** One measurement: no spread. */
        public Timing(double wallMs, double cpuMs) {
            this(wallMs, cpuMs, wallMs, wallMs);
        }

        /** The median, fastest and slowest of {@code runsMs} (at least one). */
        public static Timing of(double[] runsMs, double cpuMs) {
            double[] sorted = runsMs.clone();
            Arrays.sort(sorted);
            return new Timing(sorted[sorted.length / 2], cpuMs, sorted[0], sorted[sorted.length - 1]);
        }
    }

    public static Timing median(Runnable work, int warmup, int repeats) {
        for (int i = 0; i < warmup; i++) {
            work.run();
        }
        double[] ms = new double[Math.max(1, repeats)];
        long cpu0 = processCpuNanos();
        for (int i = 0; i < ms.length; i++) {
            long t0 = System.nanoTime();
            work.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        double cpuMs = (processCpuNanos() - cpu0) / 1e6 / ms.length;
        return Timing.of(ms, cpuMs);
    }

    public static double onceMs(Runnable work) {
        long t0 = System.nanoTime();
        work.run();
        return (System.nanoTime() - t0) / 1e6;
    }

    /** CPU time of all threads of this process, engine threads included; -1 where the JVM cannot tell. */
    static long processCpuNanos() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : -1;
    }
}
