package dev.mdx.memory;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;

/**
 * Gives memory that libtorch has freed back to the operating system. glibc's malloc keeps freed blocks of up to
 * 32 MB in its heap for reuse, so after a UNet step has freed its activations the process stays as large as the
 * step's peak; a VAE decode whose arrays do not fit the freed blocks then grows it further (measured: 0.5 GB kept
 * after one step of mobilediffusion-tiny at 512x512, and a decode peak above the step's). {@link #releaseFreed()}
 * between denoising and decoding (glibc's {@code malloc_trim(0)}, 0.1-0.3 s) makes each phase start from the
 * weights alone, which {@link MemoryEstimator#releasingBetweenPhases()} assumes.
 */
public final class NativeMemory {
    private static final Function TRIM = find("malloc_trim");
    private static final Function MALLOPT = find("mallopt");
    /** glibc's mallopt parameters (malloc.h). */
    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_MMAP_THRESHOLD = -3;
    /** The largest mmap threshold glibc accepts on 64-bit systems (half its 64 MB heap size). */
    private static final int MMAP_THRESHOLD_MAX = 32 << 20;
    private static boolean reuseSet;

    private NativeMemory() {}

    private static Function find(String name) {
        try {
            return NativeLibrary.getInstance("c").getFunction(name);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return null; // not glibc (musl, macOS): nothing to tune this way
        }
    }

    /**
     * Keeps freed native memory in malloc's heap for the next op instead of giving it back to the operating system
     * at once. By default glibc serves every array above a (moving) threshold with its own mmap and unmaps it on
     * free, and trims the heap's top whenever 128 KB are free there, so each step and each decode pays page faults
     * to get its activations' memory zeroed again: a 512 px light decode took 0.34-0.96 s that way against
     * 0.21-0.39 s with arrays up to 32 MB kept (BENCHMARKS.md, 2026-12-05). The resident size then stays at the
     * run's high-water mark (flat across requests) until {@link #releaseFreed()}. Called once when the engine
     * loads; the environment variables MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_, when set, win.
     */
    public static synchronized void keepFreedForReuse() {
        if (reuseSet || MALLOPT == null) {
            return;
        }
        reuseSet = true;
        if (System.getenv("MALLOC_MMAP_THRESHOLD_") == null) {
            MALLOPT.invokeInt(new Object[] {M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX});
        }
        if (System.getenv("MALLOC_TRIM_THRESHOLD_") == null) {
            MALLOPT.invokeInt(new Object[] {M_TRIM_THRESHOLD, Integer.MAX_VALUE});
        }
    }

    /** Whether {@link #releaseFreed()} can do anything on this system (glibc). */
    public static boolean available() {
        return TRIM != null;
    }

    /**
     * Returns the free parts of malloc's heaps to the operating system; memory in use is untouched, so it is safe at
     * any time, but it costs a walk over the heaps: call it between phases, not per op.
     *
     * @return whether any memory was released
     */
    public static boolean releaseFreed() {
        return TRIM != null && TRIM.invokeInt(new Object[] {0}) == 1;
    }
}
