package dev.mdx.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** What a benchmark report says about the machine it ran on. */
public final class Machine {
    private Machine() {}

    public static int cores() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** The CPU's model name from /proc/cpuinfo, or "unknown CPU". */
    public static String cpuModel() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }

    /** The system load average of the last minute (negative where unavailable): other work skews timings. */
    public static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }
}
