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
    private static final Function TRIM = find();

    private NativeMemory() {}

    private static Function find() {
        try {
            return NativeLibrary.getInstance("c").getFunction("malloc_trim");
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return null; // not glibc (musl, macOS): nothing to trim this way
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
