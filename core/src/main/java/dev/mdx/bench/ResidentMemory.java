package dev.mdx.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The process's resident set size (current and peak) from /proc, which counts native engine memory too. */
public final class ResidentMemory {
    private ResidentMemory() {}

    public static long currentBytes() {
        return statusField("VmRSS:");
    }

    public static long peakBytes() {
        return statusField("VmHWM:");
    }

    private static long statusField(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
