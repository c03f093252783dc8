package dev.mdx.pipeline;

import dev.mdx.inspect.UNetCost;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.unet.Guidance;

/**
 * How many engine threads a generation uses when the caller does not say: one for a UNet call under
 * {@value #SINGLE_THREAD_GFLOP} GFLOP, where a second thread costs more in hand-offs than it gains (the bundled
 * emoji model: 20 it/s on one thread, 12 on two, docs/BENCHMARKS.md), else one per core.
 */
public final class ThreadPolicy {
    /** UNet calls cheaper than this run on one engine thread. */
    public static final int SINGLE_THREAD_GFLOP = 10;

    private ThreadPolicy() {}

    /** Engine threads for one UNet call of {@code config} at {@code guidance} on a latent of h x w. */
    public static int threadsFor(PipelineConfig config, Guidance guidance, int latentHeight, int latentWidth) {
        double flops = UNetCost.of(config.unet(), guidance.batchPerImage(), latentHeight, latentWidth,
                config.textEncoder().maxPositionEmbeddings()).flops();
        return flops < SINGLE_THREAD_GFLOP * 1e9 ? 1 : EngineThreads.maxThreads();
    }
}
