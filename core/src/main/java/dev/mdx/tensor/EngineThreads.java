package dev.mdx.tensor;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The PyTorch engine's CPU thread pools. DJL reads {@code ai.djl.pytorch.num_threads} (intra-op: the threads one
 * convolution or matrix product uses) and {@code ai.djl.pytorch.num_interop_threads} when the engine loads; the
 * intra-op count can also be changed later, the inter-op count cannot (libtorch refuses once work has run).
 */
public final class EngineThreads {
    static final String INTRA_OP_PROPERTY = "ai.djl.pytorch.num_threads";
    static final String INTER_OP_PROPERTY = "ai.djl.pytorch.num_interop_threads";
    private static final String ENGINE = "PyTorch";

    private EngineThreads() {}

    /**
     * Uses {@code threads} threads per operation from now on. Call it before the first model loads to also size
     * the inter-op pool; later calls change the intra-op count only.
     */
    public static synchronized void set(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be >= 1, got " + threads);
        }
        System.setProperty(INTRA_OP_PROPERTY, Integer.toString(threads));
        if (System.getProperty(INTER_OP_PROPERTY) == null) {
            System.setProperty(INTER_OP_PROPERTY, Integer.toString(threads));
        }
        Engine.getEngine(ENGINE); // loads the engine now if needed, which applies both properties
        JniUtils.setNumThreads(threads); // and applies the intra-op count when it had loaded before
    }

    /** The intra-op thread count the engine uses now (loads the engine if needed). */
    public static int current() {
        Engine.getEngine(ENGINE);
        return JniUtils.getNumThreads();
    }
}
