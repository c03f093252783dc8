package dev.mdx.cli;

import dev.mdx.MdxException;
import dev.mdx.tensor.EngineThreads;

/** The -t/--threads flag shared by the commands that run models. */
final class ThreadsFlag {
    private ThreadsFlag() {}

    /** Validates and applies the flag; null leaves the engine's default (all cores). */
    static void apply(Integer threads) {
        if (threads != null) {
            EngineThreads.set(check(threads));
        }
    }

    /** The flag's value when it is between 1 and the machine's cores, else a usage error. */
    static int check(int threads) {
        try {
            return EngineThreads.check(threads);
        } catch (MdxException e) {
            throw new UsageException("-t/--threads: " + e.getMessage());
        }
    }
}
