package dev.mdx.memory;

import dev.mdx.MdxException;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How large this process's resident memory may grow for a request: what it holds now plus what the machine can
 * still give it, which is /proc/meminfo's MemAvailable bounded by the free part of every memory cgroup limit above
 * the process (cgroup v2 {@code memory.max}, v1 {@code memory.limit_in_bytes}; page cache the kernel would reclaim,
 * {@code inactive_file}, counts as free). {@value #ENV} (or the system property {@value #PROPERTY}), a size such as
 * "8g" or "512m", replaces all that with a fixed limit, for tests and for users who want to keep memory for
 * something else.
 *
 * @param bytes the resident size the process may reach
 * @param source where the number comes from, for messages ("MemAvailable 20.1 GB + 1.2 GB this process holds")
 */
public record MemoryLimit(long bytes, String source) {
    public static final String ENV = "MDX_MEMORY_LIMIT";
    public static final String PROPERTY = "mdx.memory.limit";

    /** cgroup v1 reports "no limit" as a page-rounded Long.MAX_VALUE; anything this large is no limit. */
    private static final long UNLIMITED = 1L << 62;
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]?)(?:i?b)?",
            Pattern.CASE_INSENSITIVE);

    public MemoryLimit {
        if (bytes < 0) {
            throw new IllegalArgumentException("memory limit must be >= 0, got " + bytes);
        }
    }

    /** This machine's limit now: {@value #PROPERTY} or {@value #ENV} if set, else measured. */
    public static MemoryLimit detect() {
        String property = System.getProperty(PROPERTY);
        if (property != null) {
            return override("-D" + PROPERTY, property);
        }
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) {
            return override(ENV, env);
        }
        return measure(Path.of("/proc"), Path.of("/sys/fs/cgroup"));
    }

    /** A fixed limit given as text, e.g. "8g", named after where it was set. */
    static MemoryLimit override(String name, String value) {
        return new MemoryLimit(parseSize(name, value), name + "=" + value.trim());
    }

    /**
     * Reads the limit from a proc file system ({@code meminfo}, {@code self/cgroup}, {@code self/status}) and a
     * cgroup mount; other roots than the system's serve tests. Without /proc/meminfo (not Linux) the free physical
     * memory the JVM reports is used instead.
     */
    static MemoryLimit measure(Path proc, Path cgroupRoot) {
        long resident = firstNumber(proc.resolve("self/status"), "VmRSS:").orElse(0) * 1024;
        OptionalLong memAvailable = firstNumber(proc.resolve("meminfo"), "MemAvailable:");
        long free;
        String what;
        if (memAvailable.isPresent()) {
            free = memAvailable.getAsLong() * 1024;
            what = "MemAvailable " + MemoryEstimate.format(free);
        } else {
            free = physicalFree();
            what = "free memory " + MemoryEstimate.format(free);
        }
        for (CgroupLevel level : cgroupLevels(proc.resolve("self/cgroup"), cgroupRoot)) {
            long headroom = Math.max(0, level.limit - level.used);
            if (headroom < free) {
                free = headroom;
                what = "cgroup limit " + MemoryEstimate.format(level.limit) + " (" + level.file + ") with "
                        + MemoryEstimate.format(headroom) + " free";
            }
        }
        return new MemoryLimit(MemoryEstimate.saturatedSum(free, resident), what + " + "
                + MemoryEstimate.format(resident) + " this process holds");
    }

    /**
     * "8g", "8G", "8gb", "8GiB", "512m", "1.5g", "1048576" (bytes); units are binary, as the JVM's -Xmx.
     *
     * @throws MdxException naming {@code name} when the text is not a size
     */
    public static long parseSize(String name, String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new MdxException(name + " must be a size such as 8g or 512m, got '" + text + "'");
        }
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        double bytes = Double.parseDouble(m.group(1)) * Math.pow(2, shift);
        if (bytes >= Long.MAX_VALUE) {
            throw new MdxException(name + " is too large: '" + text + "'");
        }
        return (long) bytes;
    }

    private static long physicalFree() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getFreeMemorySize();
        }
        return Long.MAX_VALUE;
    }

    /** A limited cgroup above this process: its limit, the memory charged to it that is not reclaimable cache. */
    private record CgroupLevel(String file, long limit, long used) {}

    /**
     * Every memory cgroup from this process's up to the mount's root that has a limit, for v2 and v1 layouts. In
     * a container the mount is often the process's own cgroup, so a path from /proc/self/cgroup that does not
     * exist under the mount is read from the mount's root.
     */
    private static List<CgroupLevel> cgroupLevels(Path selfCgroup, Path root) {
        List<CgroupLevel> out = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(selfCgroup);
        } catch (IOException e) {
            return out;
        }
        for (String line : lines) {
            String[] f = line.split(":", 3);
            if (f.length < 3) {
                continue;
            }
            boolean v2 = f[0].equals("0") && f[1].isEmpty();
            boolean v1 = List.of(f[1].split(",")).contains("memory");
            if (v2) {
                walkUp(root, f[2], "memory.max", "memory.current", "inactive_file", out);
            } else if (v1) {
                walkUp(root.resolve("memory"), f[2], "memory.limit_in_bytes", "memory.usage_in_bytes",
                        "total_inactive_file", out);
            }
        }
        return out;
    }

    private static void walkUp(Path mount, String cgroupPath, String limitFile, String usageFile, String cacheKey,
            List<CgroupLevel> out) {
        Path dir = mount.resolve(cgroupPath.replaceFirst("^/+", ""));
        if (!Files.isDirectory(dir)) {
            dir = mount;
        }
        for (Path d = dir; d != null && d.startsWith(mount); d = d.getParent()) {
            OptionalLong limit = number(d.resolve(limitFile));
            OptionalLong usage = number(d.resolve(usageFile));
            if (limit.isPresent() && limit.getAsLong() < UNLIMITED && usage.isPresent()) {
                long cache = firstNumber(d.resolve("memory.stat"), cacheKey + " ").orElse(0);
                out.add(new CgroupLevel(d.resolve(limitFile).toString(), limit.getAsLong(),
                        Math.max(0, usage.getAsLong() - cache)));
            }
        }
    }

    /** A file holding one number ("max" and anything else unreadable give empty). */
    private static OptionalLong number(Path file) {
        try {
            return OptionalLong.of(Long.parseLong(Files.readString(file).trim()));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** The first number after {@code key} on its line: "VmRSS:  1234 kB" gives 1234 (memory.stat lines are bytes). */
    private static OptionalLong firstNumber(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(key)) {
                    return OptionalLong.of(Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
        return OptionalLong.empty();
    }
}
