package dev.mdx.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mdx.bench.BenchRow;
import dev.mdx.bench.ComponentBench;
import dev.mdx.bench.GemmPeak;
import dev.mdx.bench.Presets;
import dev.mdx.bench.Stopwatch;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.StateDicts;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.vae.AutoencoderKL;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Times model components and reports them against this machine's measured GEMM peak. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Time model components (load, UNet forward, VAE decode, text encoder) and measure this "
                + "machine's fp32 GEMM peak in the same run, so every number reads as a fraction of the hardware.",
            "Presets run with random weights; --model runs a diffusers pipeline folder as it is."})
public final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--preset", split = ",", paramLabel = "NAME",
            description = "Architecture presets to run with random weights (default: ${DEFAULT-VALUE}).",
            defaultValue = "sd15")
    List<String> presets;

    @Option(names = {"-m", "--model"}, paramLabel = "DIR", description = "Diffusers pipeline folders to run as they are.")
    List<Path> models = new ArrayList<>();

    @Option(names = "--latent", paramLabel = "N", defaultValue = "64",
            description = "Latent size for presets (64 = 512x512 output with an 8x VAE). Default: ${DEFAULT-VALUE}.")
    int latent;

    @Option(names = "--batch", split = ",", paramLabel = "B", defaultValue = "1",
            description = "UNet batch sizes (2 is what classifier-free guidance costs). Default: ${DEFAULT-VALUE}.")
    List<Integer> batches;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed runs per operation (median). Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed runs first. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--skip-load", description = "Do not time writing and loading preset weights (saves disk and time).")
    boolean skipLoad;

    @Option(names = "--components", split = ",", defaultValue = "unet",
            description = "Preset components to time: unet, vae, text (default: ${DEFAULT-VALUE}).")
    List<String> components;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Engine threads (default: all cores).")
    Integer threads;

    @Override
    public void run() {
        if (repeats < 1 || warmup < 0 || latent < 1) {
            throw new UsageException("--repeats must be >= 1, --warmup >= 0 and --latent >= 1");
        }
        for (int b : batches) {
            if (b < 1) {
                throw new UsageException("--batch values must be >= 1, got " + b);
            }
        }
        ThreadsFlag.apply(threads);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("machine: %d cores, %s; measuring fp32 GEMM peak...%n", Runtime.getRuntime().availableProcessors(),
                cpuModel());
        out.flush();
        double peak = GemmPeak.measure(2048, 3);
        out.printf("GEMM peak (2048^3, fp32): %.1f GFLOP/s; load average %.1f%n%n", peak,
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        List<BenchRow> rows = new ArrayList<>();
        for (String preset : presets) {
            rows.addAll(benchPreset(preset, peak, out));
        }
        for (Path model : models) {
            rows.addAll(benchFolder(model, peak, out));
        }
        printTable(rows, out);
        if (json != null) {
            writeJson(rows, peak);
            out.println("wrote " + json);
        }
    }

    private List<BenchRow> benchPreset(String preset, double peak, PrintWriter out) {
        List<BenchRow> rows = new ArrayList<>();
        for (String component : components) {
            try (NDManager weights = NDManager.newBaseManager()) {
                ComponentBench bench = new ComponentBench(weights, peak, warmup, repeats);
                switch (component) {
                    case "unet" -> {
                        UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(Presets.unet(preset));
                        rows.add(initAndLoad(preset, "unet", unet, weights, peak, out));
                        for (int b : batches) {
                            rows.add(report(out, bench.unet(preset, unet, b, latent, latent)));
                        }
                    }
                    case "vae" -> {
                        AutoencoderKL vae = new AutoencoderKL(Presets.vae(preset));
                        rows.add(initAndLoad(preset, "vae", vae, weights, peak, out));
                        rows.add(report(out, bench.vaeDecode(preset, vae, latent, latent)));
                    }
                    case "text" -> {
                        ClipTextModel text = new ClipTextModel(Presets.textEncoder(preset));
                        rows.add(initAndLoad(preset, "text", text, weights, peak, out));
                        rows.add(report(out, bench.textEncoder(preset, text, 1)));
                    }
                    default -> throw new UsageException("unknown component '" + component + "' (unet, vae, text)");
                }
            }
        }
        return rows;
    }

    /** Random weights; unless skipped, also the time to load them back from a safetensors file. */
    private BenchRow initAndLoad(String preset, String component, dev.mdx.nn.Module module, NDManager weights,
            double peak, PrintWriter out) {
        double initMs = Stopwatch.onceMs(() -> StateDicts.initRandom(module, weights, 1234));
        if (skipLoad) {
            return report(out, BenchRow.of(preset, component + " random init", initMs, 0, peak));
        }
        Path dir = tempDir();
        try {
            Path file = dir.resolve(component + ".safetensors");
            StateDicts.save(module, file, Map.of("format", "pt"));
            double loadMs = Stopwatch.onceMs(() -> StateDicts.load(module, file, weights));
            return report(out, BenchRow.of(preset, component + " load (" + sizeMb(file) + " MB)", loadMs, 0, peak));
        } finally {
            deleteTree(dir);
        }
    }

    private List<BenchRow> benchFolder(Path dir, double peak, PrintWriter out) {
        List<BenchRow> rows = new ArrayList<>();
        String name = dir.getFileName().toString();
        try (NDManager weights = NDManager.newBaseManager()) {
            ComponentBench bench = new ComponentBench(weights, peak, warmup, repeats);
            UNet2DConditionModel[] unet = new UNet2DConditionModel[1];
            double ms = Stopwatch.onceMs(() -> unet[0] = UNet2DConditionModel.load(dir.resolve("unet"), weights));
            rows.add(report(out, BenchRow.of(name, "unet load", ms, 0, peak)));
            int size = unet[0].config().sampleSize();
            for (int b : batches) {
                rows.add(report(out, bench.unet(name, unet[0], b, size, size)));
            }
            AutoencoderKL[] vae = new AutoencoderKL[1];
            ms = Stopwatch.onceMs(() -> vae[0] = AutoencoderKL.load(dir.resolve("vae"), weights));
            rows.add(report(out, BenchRow.of(name, "vae load", ms, 0, peak)));
            rows.add(report(out, bench.vaeDecode(name, vae[0], size, size)));
            ClipTextModel[] text = new ClipTextModel[1];
            ms = Stopwatch.onceMs(() -> text[0] = ClipTextModel.load(dir.resolve("text_encoder"), weights));
            rows.add(report(out, BenchRow.of(name, "text encoder load", ms, 0, peak)));
            rows.add(report(out, bench.textEncoder(name, text[0], 1)));
        }
        return rows;
    }

    private static BenchRow report(PrintWriter out, BenchRow row) {
        out.printf("  %-12s %-28s %10.1f ms%n", row.model(), row.operation(), row.ms());
        out.flush();
        return row;
    }

    private static void printTable(List<BenchRow> rows, PrintWriter out) {
        out.println();
        out.printf("| %-12s | %-28s | %10s | %10s | %8s | %9s | %7s | %8s |%n", "model", "operation", "ms",
                "CPU ms", "GFLOP", "GFLOP/s", "% peak", "peak RSS");
        out.printf("|%s|%s|%s|%s|%s|%s|%s|%s|%n", "-".repeat(14), "-".repeat(30), "-".repeat(12), "-".repeat(12),
                "-".repeat(10), "-".repeat(11), "-".repeat(9), "-".repeat(10));
        for (BenchRow r : rows) {
            out.printf("| %-12s | %-28s | %10.1f | %10s | %8s | %9s | %7s | %5.1f GB |%n", r.model(), r.operation(),
                    r.ms(), r.cpuMs() > 0 ? String.format("%.1f", r.cpuMs()) : "",
                    r.flops() > 0 ? String.format("%.2f", r.flops() / 1e9) : "",
                    r.flops() > 0 ? String.format("%.1f", r.gflops()) : "",
                    r.flops() > 0 ? String.format("%.0f%%", r.percentOfPeak()) : "",
                    r.peakRssBytes() / 1e9);
        }
    }

    private void writeJson(List<BenchRow> rows, double peak) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("cores", Runtime.getRuntime().availableProcessors());
        doc.put("cpu", cpuModel());
        doc.put("gemm_peak_gflops", peak);
        doc.put("engine_threads", threads == null ? "default" : threads.toString());
        doc.put("load_average", java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        doc.put("rows", rows);
        try {
            byte[] bytes = JsonConfig.MAPPER.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(doc);
            AtomicFiles.writeBytes(json, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + json + ": " + e.getMessage(), e);
        }
    }

    static String cpuModel() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }

    private static long sizeMb(Path file) {
        try {
            return Files.size(file) / (1024 * 1024);
        } catch (IOException e) {
            return -1;
        }
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("mdx-bench");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary folder: " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temp folder is harmless
        }
    }
}
