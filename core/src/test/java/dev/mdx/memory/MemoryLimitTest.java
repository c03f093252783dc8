package dev.mdx.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.MdxException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The memory limit from fake /proc and cgroup trees, and from the override. */
class MemoryLimitTest {
    private static final long KB = 1024;
    private static final long GIB = 1L << 30;

    @TempDir
    Path root;

    /** A /proc with MemAvailable, this process's resident size and its cgroup lines. */
    private Path proc(long availableKb, long residentKb, String... cgroupLines) throws IOException {
        Path proc = root.resolve("proc");
        write(proc.resolve("meminfo"), "MemTotal:       24683748 kB\nMemFree:        20000000 kB\n"
                + "MemAvailable:   " + availableKb + " kB\n");
        write(proc.resolve("self/status"), "Name:\tjava\nVmHWM:\t 9999999 kB\nVmRSS:\t " + residentKb + " kB\n");
        write(proc.resolve("self/cgroup"), String.join("\n", cgroupLines) + "\n");
        return proc;
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    @Test
    void memAvailablePlusWhatTheProcessHolds() throws IOException {
        MemoryLimit limit = MemoryLimit.measure(proc(8_000_000, 1_000_000, "0::/"), root.resolve("cgroup"));
        assertEquals(9_000_000 * KB, limit.bytes());
        assertTrue(limit.source().startsWith("MemAvailable 8.2 GB + 1.0 GB this process holds"), limit.source());
    }

    @Test
    void cgroupV2LimitsOfTheProcessAndItsParentsBoundIt() throws IOException {
        Path cgroup = root.resolve("cgroup");
        Path app = cgroup.resolve("user.slice/app.scope");
        write(app.resolve("memory.max"), "4294967296\n");
        write(app.resolve("memory.current"), "3221225472\n");
        // 1 GiB of it is page cache the kernel would reclaim: 2 GiB free
        write(app.resolve("memory.stat"), "anon 2147483648\nfile 1073741824\ninactive_file 1073741824\n");
        write(cgroup.resolve("user.slice/memory.max"), "max\n");
        write(cgroup.resolve("user.slice/memory.current"), "9000000000\n");
        Path proc = proc(8_000_000, 1_000_000, "0::/user.slice/app.scope");
        MemoryLimit limit = MemoryLimit.measure(proc, cgroup);
        assertEquals(2 * GIB + 1_000_000 * KB, limit.bytes());
        assertTrue(limit.source().contains("cgroup limit 4.3 GB") && limit.source().contains("app.scope"),
                limit.source());

        // a parent with less room bounds the process more
        write(cgroup.resolve("user.slice/memory.max"), "10000000000\n");
        assertEquals(1_000_000_000 + 1_000_000 * KB, MemoryLimit.measure(proc, cgroup).bytes());
    }

    @Test
    void cgroupV1LimitAndAContainerWhoseMountIsItsOwnCgroup() throws IOException {
        Path cgroup = root.resolve("cgroup");
        Path own = cgroup.resolve("memory/docker/abc");
        write(own.resolve("memory.limit_in_bytes"), "2147483648\n");
        write(own.resolve("memory.usage_in_bytes"), "1610612736\n");
        write(own.resolve("memory.stat"), "cache 536870912\ntotal_inactive_file 536870912\n");
        write(cgroup.resolve("memory/memory.limit_in_bytes"), "9223372036854771712\n");
        write(cgroup.resolve("memory/memory.usage_in_bytes"), "1610612736\n");
        Path proc = proc(8_000_000, 500_000, "5:cpuacct,cpu:/docker/abc", "4:memory:/docker/abc", "0::/");
        assertEquals(GIB + 500_000 * KB, MemoryLimit.measure(proc, cgroup).bytes());

        // in a container /proc/self/cgroup names a path the mount does not have: the mount root is the cgroup
        Path container = root.resolve("container");
        write(container.resolve("memory/memory.limit_in_bytes"), "1073741824\n");
        write(container.resolve("memory/memory.usage_in_bytes"), "536870912\n");
        MemoryLimit limit = MemoryLimit.measure(proc, container);
        assertEquals(GIB / 2 + 500_000 * KB, limit.bytes());
        assertTrue(limit.source().contains("memory.limit_in_bytes"), limit.source());
    }

    @Test
    void withoutMeminfoTheJvmsFreeMemoryIsUsed() {
        MemoryLimit limit = MemoryLimit.measure(root.resolve("no-proc"), root.resolve("no-cgroup"));
        assertTrue(limit.bytes() > 0, limit.toString());
        assertTrue(limit.source().startsWith("free memory"), limit.source());
    }

    @Test
    void sizesParseAsTheJvmsDo() {
        assertEquals(8 * GIB, MemoryLimit.parseSize("x", "8g"));
        assertEquals(8 * GIB, MemoryLimit.parseSize("x", "8G"));
        assertEquals(8 * GIB, MemoryLimit.parseSize("x", " 8GiB "));
        assertEquals(8 * GIB, MemoryLimit.parseSize("x", "8gb"));
        assertEquals(512L << 20, MemoryLimit.parseSize("x", "512m"));
        assertEquals(3 * GIB / 2, MemoryLimit.parseSize("x", "1.5g"));
        assertEquals(1048576, MemoryLimit.parseSize("x", "1048576"));
        assertEquals(2L << 40, MemoryLimit.parseSize("x", "2t"));
        for (String bad : new String[] {"", "lots", "8x", "-1g", "8 g b", "1e9"}) {
            MdxException e = assertThrows(MdxException.class, () -> MemoryLimit.parseSize("MDX_MEMORY_LIMIT", bad));
            assertTrue(e.getMessage().startsWith("MDX_MEMORY_LIMIT must be a size such as 8g"), e.getMessage());
        }
        assertThrows(MdxException.class, () -> MemoryLimit.parseSize("x", "99999999999t"));
    }

    @Test
    void thePropertyOverridesTheMeasurement() {
        String saved = System.getProperty(MemoryLimit.PROPERTY);
        System.setProperty(MemoryLimit.PROPERTY, "3g");
        try {
            MemoryLimit limit = MemoryLimit.detect();
            assertEquals(3 * GIB, limit.bytes());
            assertEquals("-Dmdx.memory.limit=3g", limit.source());
            System.setProperty(MemoryLimit.PROPERTY, "three");
            assertThrows(MdxException.class, MemoryLimit::detect);
        } finally {
            if (saved == null) {
                System.clearProperty(MemoryLimit.PROPERTY);
            } else {
                System.setProperty(MemoryLimit.PROPERTY, saved);
            }
        }
        if (System.getenv(MemoryLimit.ENV) == null) {
            MemoryLimit measured = MemoryLimit.detect();
            assertTrue(measured.source().contains("this process holds"), measured.source());
        }
    }
}
