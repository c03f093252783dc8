package dev.mdx.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchResultsTest {
    @TempDir
    Path dir;

    /** 1 GFLOP in 10 ms (median of runs of 9-14 ms) is 100 GFLOP/s: half of a 200 GFLOP/s peak. */
    private static final BenchRow FORWARD = BenchRow.of("tiny", "unet b1 4x4",
            Stopwatch.Timing.of(new double[] {14, 9, 10}, 15), 1_000_000_000L, 200);
    private static final BenchRow LOAD = new BenchRow("tiny", "unet load (1 MB)", 2.5, 0, 0, 0, 0, 300_000_000L);

    private static BenchResults results() {
        BenchResults r = new BenchResults();
        r.add("tiny", List.of(LOAD, FORWARD), 250_000_000L);
        r.add("folder", List.of(), 1_500_000_000L);
        return r;
    }

    @Test
    void tablesShowRatesAndPeakFractionsOnlyForCountedWork() {
        StringWriter text = new StringWriter();
        results().printTables(new PrintWriter(text));
        List<String> lines = text.toString().lines().toList();
        assertEquals(List.of("",
                "| model                        | operation                      |         ms |    min-max ms |     CPU ms "
                        + "|     GFLOP |   GFLOP/s |  % peak |",
                "|------------------------------|--------------------------------|-----------:|--------------:"
                        + "|-----------:|----------:|----------:|--------:|",
                "| tiny                         | unet load (1 MB)               |        2.5 |               |            "
                        + "|           |           |         |",
                "| tiny                         | unet b1 4x4                    |       10.0 |          9-14 |       15.0 "
                        + "|      1.00 |     100.0 |   50.0% |",
                "",
                "| model                        | peak RSS (GB) |",
                "|------------------------------|--------------:|",
                "| tiny                         |          0.25 |",
                "| folder                       |          1.50 |"), lines);
    }

    @Test
    void aReportStartsWithTheMachineAndSettingsAndReadsBackAsResults() throws Exception {
        Path file = dir.resolve("report.json");
        BenchSettings settings = new BenchSettings(List.of("unet"), 4, 16, List.of(1), 1, 0, 1, true, null, 3);
        results().writeReport(file, settings, 200);
        JsonNode doc = JsonConfig.MAPPER.readTree(Files.readString(file));
        List<String> keys = new ArrayList<>();
        doc.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("cores", "cpu", "gemm_peak_gflops", "engine_threads", "load_average", "latent",
                "image_size", "peak_rss_bytes", "rows"), keys);
        assertEquals(200.0, doc.get("gemm_peak_gflops").asDouble());
        assertEquals("3", doc.get("engine_threads").asText());
        assertEquals(4, doc.get("latent").asInt());
        assertEquals(16, doc.get("image_size").asInt());
        assertEquals(50.0, doc.get("rows").get(1).get("percentOfPeak").asDouble());

        BenchResults back = BenchResults.read(file);
        assertEquals(List.of(LOAD, FORWARD), back.rows());
        assertEquals(Map.of("tiny", 250_000_000L, "folder", 1_500_000_000L), back.peakRssBytes());
        assertEquals(List.of("tiny", "folder"), List.copyOf(back.peakRssBytes().keySet()), "in the order they ran");
    }

    @Test
    void addAllKeepsRowsPeakRssAndFailures() {
        BenchResults child = new BenchResults();
        child.add("child", List.of(FORWARD), 7);
        BenchResults failing = new BenchResults();
        failing.addFailed("broken");
        BenchResults all = results();
        all.addAll(child);
        all.addAll(failing);
        assertEquals(List.of(LOAD, FORWARD, FORWARD), all.rows());
        assertEquals(List.of("tiny", "folder", "child"), List.copyOf(all.peakRssBytes().keySet()));
        assertEquals(List.of("broken"), all.failed());
    }
}
