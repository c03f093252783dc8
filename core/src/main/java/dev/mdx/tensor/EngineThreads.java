package dev.mdx.tensor;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import dev.mdx.MdxException;
import dev.mdx.memory.NativeMemory;

/**
 * The PyTorch engine's CPU thread pools. DJL reads {@code ai.djl.pytorch.num_threads} (intra-op: the threads one
 * convolution or matrix product uses) and {@code ai.djl.pytorch.num_interop_threads} when the engine loads. mdx
 * never runs independent operations in parallel, so the inter-op pool is kept at one thread.
 *
 * <p>libtorch's intra-op count is partly per calling thread: {@code at::set_num_threads} sets OpenMP's and MKL's
 * count for the thread that calls it, and a thread that never called it runs oneDNN's kernels on every core. The
 * same operation then splits its sums differently, and the same request gives other bits on another thread. Code
 * that runs a model therefore calls {@link #useOnThisThread} first.
 */
public final class EngineThreads {
    static final String INTRA_OP_PROPERTY = "ai.djl.pytorch.num_threads";
    static final String INTER_OP_PROPERTY = "ai.djl.pytorch.num_interop_threads";
    private static final String ENGINE = "PyTorch";

    private EngineThreads() {}

    /** The most threads an operation may use: the cores the JVM sees (more only adds hand-offs). */
    public static int maxThreads() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** Checks a thread count a user gave. */
    public static int check(int threads) {
        if (threads < 1 || threads > maxThreads()) {
            throw new MdxException("the thread count must be between 1 and " + maxThreads() + " (the cores of this"
                    + " machine), got " + threads);
        }
        return threads;
    }

    /**
     * Loads the engine with a one-thread inter-op pool (unless the property was set) and {@code threads} intra-op
     * threads for the threads that have not chosen their own; later calls change the intra-op count only.
     */
    public static synchronized void set(int threads) {
        check(threads);
        System.setProperty(INTRA_OP_PROPERTY, Integer.toString(threads));
        loadEngine();
        JniUtils.setNumThreads(threads); // applies the intra-op count when the engine had loaded before
    }

    /**
     * Loads the engine, with a one-thread inter-op pool unless the property says otherwise, and malloc set to keep
     * freed arrays for reuse ({@link NativeMemory#keepFreedForReuse()}).
     */
    public static synchronized void loadEngine() {
        if (System.getProperty(INTER_OP_PROPERTY) == null) {
            System.setProperty(INTER_OP_PROPERTY, "1");
        }
        NativeMemory.keepFreedForReuse();
        Engine.getEngine(ENGINE);
    }

    /**
     * Runs this thread's engine operations on {@code threads} threads (see the class comment for why), for inference:
     * libtorch's grad mode is per thread too and starts on in a new thread, where {@link ScriptedOps} would then stand
     * aside and the same request would take the composite ops (other bits, and no bf16) off the main thread.
     */
    public static void useOnThisThread(int threads) {
        check(threads);
        loadEngine();
        JniUtils.setNumThreads(threads);
        JniUtils.setGradMode(false);
    }

    /** The intra-op thread count the engine uses now (loads the engine if needed). */
    public static int current() {
        loadEngine();
        return JniUtils.getNumThreads();
    }
}
