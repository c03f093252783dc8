package dev.mdx.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.MdxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchRunnerTest {
    @TempDir
    Path dir;

    private final List<String> lines = new ArrayList<>();

    private BenchRunner runner(List<String> components) {
        return new BenchRunner(new BenchSettings(components, 4, 16, List.of(1), 1, 0, 1, true, null, null), 100,
                lines::add);
    }

    @Test
    void everyPresetIsCheckedBeforeAnyRuns() {
        MdxException e = assertThrows(MdxException.class,
                () -> runner(List.of("vae")).run(List.of("mobilediffusion-tiny-fashion", "nope"), List.of(), true));
        assertTrue(e.getMessage().contains("unknown preset 'nope'"), e.getMessage());
        assertEquals(List.of(), lines);
    }

    @Test
    void inThisJvmEachPresetGetsItsRowsAndThePeakRssSoFar() {
        BenchResults r = runner(List.of("vae")).run(List.of("mobilediffusion-tiny-fashion", "mobilediffusion-tiny"),
                List.of(), false);
        assertEquals(List.of("mobilediffusion-tiny-fashion", "mobilediffusion-tiny"),
                r.rows().stream().map(BenchRow::model).toList());
        assertEquals(List.of("mobilediffusion-tiny-fashion", "mobilediffusion-tiny"),
                List.copyOf(r.peakRssBytes().keySet()));
        long first = r.peakRssBytes().get("mobilediffusion-tiny-fashion");
        assertTrue(first > 0 && r.peakRssBytes().get("mobilediffusion-tiny") >= first, "a peak only grows");
        assertEquals(List.of(), r.failed());
    }

    @Test
    void aPresetThatFailsInItsFreshJvmIsListedWithItsError() throws Exception {
        // the child's profiler cannot create its folder under a file
        Path file = Files.createFile(dir.resolve("file"));
        BenchRunner runner = new BenchRunner(new BenchSettings(List.of("unet"), 4, 16, List.of(1), 1, 0, 1, true,
                file.resolve("prof"), null), 100, lines::add);
        BenchResults r = runner.run(List.of("mobilediffusion-tiny-fashion"), List.of(), true);
        assertEquals(List.of("mobilediffusion-tiny-fashion"), r.failed());
        assertEquals(List.of(), r.rows());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("  mobilediffusion-tiny-fashion: error: cannot create")),
                lines.toString());
        assertEquals("  mobilediffusion-tiny-fashion: the child JVM exited with code 1", lines.get(lines.size() - 1));
    }
}
