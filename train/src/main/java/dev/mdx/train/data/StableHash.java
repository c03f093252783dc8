package dev.mdx.train.data;

import java.nio.charset.StandardCharsets;

/** Hashes that never change between JVMs or releases, for splits and orders that must be reproducible. */
public final class StableHash {
    private StableHash() {}

    /** SplitMix64's finalizer: a bijective mix of 64 bits. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** FNV-1a over the UTF-8 bytes of the parts (with a separator), mixed with the seed. */
    public static long of(long seed, String... parts) {
        long h = 0xcbf29ce484222325L;
        for (String part : parts) {
            for (byte b : part.getBytes(StandardCharsets.UTF_8)) {
                h = (h ^ (b & 0xff)) * 0x100000001b3L;
            }
            h = (h ^ 0x1f) * 0x100000001b3L;
        }
        return mix(h ^ mix(seed));
    }

    /** A uniform number in [0, 1) from the same inputs as {@link #of}. */
    public static double unit(long seed, String... parts) {
        return (of(seed, parts) >>> 11) * 0x1.0p-53;
    }
}
