package dev.mdx.cli;

/** Applies a --threads flag: DJL reads these properties when the PyTorch engine starts, so call it first. */
final class EngineThreads {
    private EngineThreads() {}

    static void apply(Integer threads) {
        if (threads == null) {
            return;
        }
        if (threads < 1) {
            throw new UsageException("--threads must be >= 1, got " + threads);
        }
        System.setProperty("ai.djl.pytorch.num_threads", threads.toString());
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }
}
