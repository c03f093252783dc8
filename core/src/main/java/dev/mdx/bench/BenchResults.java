package dev.mdx.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The rows of a benchmark run, the peak resident memory of each model and the presets that failed, with their
 * reports: markdown tables and JSON.
 */
public final class BenchResults {
    private static final String PEAK_RSS = "peak_rss_bytes";
    private static final String ROWS = "rows";
    private final List<BenchRow> rows = new ArrayList<>();
    private final Map<String, Long> peakRssBytes = new LinkedHashMap<>();
    private final List<String> failed = new ArrayList<>();

    /** A model's rows and the peak RSS of the JVM that ran them. */
    public void add(String model, List<BenchRow> modelRows, long peakRss) {
        rows.addAll(modelRows);
        peakRssBytes.put(model, peakRss);
    }

    public void addAll(BenchResults other) {
        rows.addAll(other.rows);
        peakRssBytes.putAll(other.peakRssBytes);
        failed.addAll(other.failed);
    }

    public void addFailed(String preset) {
        failed.add(preset);
    }

    public List<BenchRow> rows() {
        return Collections.unmodifiableList(rows);
    }

    /** Peak RSS per model, in the order they ran. */
    public Map<String, Long> peakRssBytes() {
        return Collections.unmodifiableMap(peakRssBytes);
    }

    /** Presets whose run failed; their rows are missing. */
    public List<String> failed() {
        return Collections.unmodifiableList(failed);
    }

    /** The rows with their rates and fractions of the peak, then the peak RSS per model, as markdown tables. */
    public void printTables(PrintWriter out) {
        out.println();
        out.printf("| %-28s | %-30s | %10s | %13s | %10s | %9s | %9s | %7s |%n", "model", "operation", "ms",
                "min-max ms", "CPU ms", "GFLOP", "GFLOP/s", "% peak");
        out.printf("|%s|%s|%s|%s|%s|%s|%s|%s|%n", "-".repeat(30), "-".repeat(32), "-".repeat(11) + ":",
                "-".repeat(14) + ":", "-".repeat(11) + ":", "-".repeat(10) + ":", "-".repeat(10) + ":",
                "-".repeat(8) + ":");
        for (BenchRow r : rows) {
            out.printf("| %-28s | %-30s | %10.1f | %13s | %10s | %9s | %9s | %7s |%n", r.model(), r.operation(),
                    r.ms(), r.spread(),
                    r.cpuMs() > 0 ? String.format("%.1f", r.cpuMs()) : "",
                    r.flops() > 0 ? String.format("%.2f", r.flops() / 1e9) : "",
                    r.flops() > 0 ? String.format("%.1f", r.gflops()) : "",
                    r.flops() > 0 ? String.format("%.1f%%", r.percentOfPeak()) : "");
        }
        out.println();
        out.printf("| %-28s | %13s |%n", "model", "peak RSS (GB)");
        out.printf("|%s|%s|%n", "-".repeat(30), "-".repeat(14) + ":");
        peakRssBytes.forEach((model, bytes) -> out.printf("| %-28s | %13.2f |%n", model, bytes / 1e9));
        out.flush();
    }

    /**
     * Writes the report: the machine, the GEMM peak and the settings the numbers depend on, then the peak RSS per
     * model and the rows.
     */
    public void writeReport(Path file, BenchSettings settings, double peakGflops) {
        ObjectNode doc = JsonConfig.MAPPER.createObjectNode();
        doc.put("cores", Machine.cores());
        doc.put("cpu", Machine.cpuModel());
        doc.put("gemm_peak_gflops", peakGflops);
        doc.put("engine_threads", settings.engineThreads() == null ? "default" : settings.engineThreads().toString());
        doc.put("load_average", Machine.loadAverage());
        doc.put("latent", settings.latent());
        doc.put("image_size", settings.imageSize());
        doc.setAll(toJson());
        write(file, doc);
    }

    /** Writes the rows and peak RSS alone, as {@link #read} reads them (and a report). */
    void write(Path file) {
        write(file, toJson());
    }

    /** The rows and peak RSS of a file {@link #write} or {@link #writeReport} wrote. */
    static BenchResults read(Path file) {
        try {
            JsonNode doc = JsonConfig.MAPPER.readTree(Files.readString(file));
            BenchResults results = new BenchResults();
            for (JsonNode row : doc.get(ROWS)) {
                results.rows.add(JsonConfig.MAPPER.treeToValue(row, BenchRow.class));
            }
            doc.get(PEAK_RSS).properties().forEach(e -> results.peakRssBytes.put(e.getKey(), e.getValue().asLong()));
            return results;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private ObjectNode toJson() {
        ObjectNode doc = JsonConfig.MAPPER.createObjectNode();
        ObjectNode rss = doc.putObject(PEAK_RSS);
        peakRssBytes.forEach(rss::put);
        doc.set(ROWS, JsonConfig.MAPPER.valueToTree(rows));
        return doc;
    }

    private static void write(Path file, ObjectNode doc) {
        try {
            byte[] bytes = JsonConfig.MAPPER.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(doc);
            AtomicFiles.writeBytes(file, bytes);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
