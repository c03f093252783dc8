package dev.mdx.cli;

import dev.mdx.tensor.EngineThreads;

/** The -t/--threads flag shared by the commands that run models. */
final class ThreadsFlag {
    private ThreadsFlag() {}

    /** Validates and applies the flag; null leaves the engine's default (all cores). */
    static void apply(Integer threads) {
        if (threads == null) {
            return;
        }
        if (threads < 1) {
            throw new UsageException("-t/--threads must be at least 1, got " + threads);
        }
        EngineThreads.set(threads);
    }
}
