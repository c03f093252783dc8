package dev.mdx.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One tiny preset benchmarked in a child JVM. */
class FreshJvmBenchTest {
    private static final String PRESET = "mobilediffusion-tiny-fashion";

    @Test
    void theChildRunsThePresetAndItsRowsAndPeakRssComeBack() {
        List<String> lines = new ArrayList<>();
        BenchSettings settings = new BenchSettings(List.of("unet"), 4, 16, List.of(1), 1, 0, 1, true, null, 1);
        BenchResults r = FreshJvmBench.run(PRESET, settings, 100, lines::add).orElseThrow(
                () -> new AssertionError(String.join("\n", lines)));
        assertEquals(List.of("unet random init", "unet b1 4x4"), r.rows().stream().map(BenchRow::operation).toList());
        assertEquals(r.rows().get(1).gflops(), r.rows().get(1).percentOfPeak(), 1e-9,
                "read against the parent's peak of 100 GFLOP/s");
        assertTrue(r.rows().get(1).flops() > 0);
        assertTrue(r.peakRssBytes().get(PRESET) > 0, "the child's own peak RSS");
        assertEquals(PRESET + " (fresh JVM):", lines.get(0));
        assertTrue(lines.stream().anyMatch(l -> l.matches("  " + PRESET + " +unet b1 4x4 +[0-9.]+ ms")),
                "the child's progress lines stream through: " + lines);
    }
}
