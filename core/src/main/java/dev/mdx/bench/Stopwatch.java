package dev.mdx.bench;

import java.util.Arrays;

/** Median wall time of repeated runs after warm-up. */
public final class Stopwatch {
    private Stopwatch() {}

    public static double medianMs(Runnable work, int warmup, int repeats) {
        for (int i = 0; i < warmup; i++) {
            work.run();
        }
        double[] ms = new double[Math.max(1, repeats)];
        for (int i = 0; i < ms.length; i++) {
            long t0 = System.nanoTime();
            work.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms[ms.length / 2];
    }

    public static double onceMs(Runnable work) {
        long t0 = System.nanoTime();
        work.run();
        return (System.nanoTime() - t0) / 1e6;
    }
}
