package dev.mdx.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.MdxException;
import dev.mdx.bench.BenchRow;
import dev.mdx.bench.ComponentBench;
import dev.mdx.bench.GemmPeak;
import dev.mdx.bench.ResidentMemory;
import dev.mdx.bench.Stopwatch;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.StateDicts;
import dev.mdx.models.ArchitecturePresets;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.VaeConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
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
        description = {"Time model components (text encoder, UNet forward, full and light VAE decoders) and measure "
                + "this machine's fp32 GEMM peak in the same run, so every number reads as a fraction of the hardware.",
            "Presets run with random weights, each in a fresh JVM so that its peak resident memory is its own; "
                + "--model runs a diffusers pipeline folder as it is."})
public final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--preset", split = ",", paramLabel = "NAME",
            description = "Architecture presets to run with random weights (default: all of them).")
    List<String> presets;

    @Option(names = {"-m", "--model"}, paramLabel = "DIR", description = "Diffusers pipeline folders to run as they are.")
    List<Path> models = new ArrayList<>();

    @Option(names = "--latent", paramLabel = "N", defaultValue = "64",
            description = "UNet latent size for presets (64 = 512x512 output with an 8x VAE). Default: ${DEFAULT-VALUE}.")
    int latent;

    @Option(names = "--image-size", paramLabel = "PX", defaultValue = "512",
            description = "Image size the VAE decoders produce. Default: ${DEFAULT-VALUE}.")
    int imageSize;

    @Option(names = "--batch", split = ",", paramLabel = "B", defaultValue = "1,2",
            description = "UNet batch sizes (2 is what classifier-free guidance costs). Default: ${DEFAULT-VALUE}.")
    List<Integer> batches;

    @Option(names = "--train-batch", paramLabel = "B", defaultValue = "32",
            description = "Batch of the 'train' component, at the UNet's sample_size. Default: ${DEFAULT-VALUE}.")
    int trainBatch;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed runs per operation (median). Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed runs first. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--skip-load", description = "Do not time writing and loading preset weights (saves disk and time).")
    boolean skipLoad;

    @Option(names = "--components", split = ",", defaultValue = "text,unet,vae",
            description = "Preset components to time: text, unet, vae (full and light decoders), train (UNet forward "
                    + "+ backward at --train-batch). Default: ${DEFAULT-VALUE}.")
    List<String> components;

    @Option(names = "--in-process",
            description = "Run every preset in this JVM instead of one fresh JVM each (peak RSS then accumulates).")
    boolean inProcess;

    @Option(names = "--gemm-peak", paramLabel = "GFLOPS", hidden = true,
            description = "Use this GEMM peak instead of measuring it (how the parent passes its peak to a child).")
    Double gemmPeak;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    @Option(names = "--profile", paramLabel = "DIR",
            description = "Also run each operation once under the engine's profiler: print the ops with the most "
                    + "self time and write each Chrome trace to DIR.")
    Path profileDir;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Engine threads (default: all cores).")
    Integer threads;

    @Override
    public void run() {
        if (repeats < 1 || warmup < 0 || latent < 1 || imageSize < 1 || trainBatch < 1) {
            throw new UsageException("--repeats, --latent, --image-size and --train-batch must be >= 1, --warmup >= 0");
        }
        for (int b : batches) {
            if (b < 1) {
                throw new UsageException("--batch values must be >= 1, got " + b);
            }
        }
        for (String c : components) {
            if (!List.of("text", "unet", "vae", "train").contains(c)) {
                throw new UsageException("unknown component '" + c + "' (text, unet, vae, train)");
            }
        }
        List<String> names = presets != null ? presets : ArchitecturePresets.NAMES;
        for (String name : names) {
            if (!ArchitecturePresets.NAMES.contains(name)) {
                throw new UsageException("unknown preset '" + name + "' (presets: "
                        + String.join(", ", ArchitecturePresets.NAMES) + ")");
            }
        }
        ThreadsFlag.apply(threads);
        PrintWriter out = spec.commandLine().getOut();
        double peak;
        if (gemmPeak != null) {
            peak = gemmPeak;
        } else {
            out.printf("machine: %d cores, %s; measuring fp32 GEMM peak...%n", Runtime.getRuntime().availableProcessors(),
                    cpuModel());
            out.flush();
            peak = GemmPeak.measure(2048, 3);
            out.printf("GEMM peak (2048^3, fp32): %.1f GFLOP/s; load average %.1f%n%n", peak,
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
        List<BenchRow> rows = new ArrayList<>();
        Map<String, Long> peakRss = new LinkedHashMap<>();
        List<String> failed = new ArrayList<>();
        for (String preset : names) {
            if (inProcess) {
                rows.addAll(benchPreset(preset, peak, out));
                peakRss.put(preset, ResidentMemory.peakBytes());
            } else {
                PresetResult r = benchInChild(preset, peak, out);
                if (r == null) {
                    failed.add(preset);
                } else {
                    rows.addAll(r.rows());
                    peakRss.put(preset, r.peakRssBytes());
                }
            }
        }
        for (Path model : models) {
            rows.addAll(benchFolder(model, peak, out));
            peakRss.put(model.getFileName().toString(), ResidentMemory.peakBytes());
        }
        printTable(rows, peakRss, out);
        if (json != null) {
            writeJson(rows, peakRss, peak);
            out.println("wrote " + json);
        }
        if (!failed.isEmpty()) {
            throw new MdxException("benchmark failed for preset(s): " + String.join(", ", failed)
                    + " (their output is above)");
        }
    }

    private List<BenchRow> benchPreset(String preset, double peak, PrintWriter out) {
        List<BenchRow> rows = new ArrayList<>();
        for (String component : components) {
            switch (component) {
                case "text" -> withWeights(peak, (weights, bench) -> {
                    ClipTextModel text = new ClipTextModel(ArchitecturePresets.textEncoder(preset));
                    rows.add(initAndLoad(preset, "text encoder", text, weights, peak, out));
                    rows.add(report(out, bench.textEncoder(preset, text, 1)));
                });
                case "unet" -> withWeights(peak, (weights, bench) -> {
                    UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(ArchitecturePresets.unet(preset));
                    rows.add(initAndLoad(preset, "unet", unet, weights, peak, out));
                    for (int b : batches) {
                        rows.add(report(out, bench.unet(preset, unet, b, latent, latent)));
                    }
                });
                case "vae" -> {
                    benchDecoder(preset, "vae decode", ArchitecturePresets.vae(preset), peak, out, rows);
                    if (ArchitecturePresets.has(preset, ArchitecturePresets.VAE_LIGHT)) {
                        benchDecoder(preset, "vae decode (light)", ArchitecturePresets.vaeLight(preset), peak, out,
                                rows);
                    }
                }
                case "train" -> withWeights(peak, (weights, bench) -> {
                    UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(ArchitecturePresets.unet(preset));
                    StateDicts.initRandom(unet, weights, 1234);
                    Integer size = unet.config().sampleSize();
                    int s = size != null ? size : latent;
                    rows.add(report(out, bench.unetTrainStep(preset, unet, trainBatch, s, s)));
                });
                default -> throw new IllegalStateException(component);
            }
        }
        return rows;
    }

    private void benchDecoder(String preset, String label, VaeConfig config, double peak, PrintWriter out,
            List<BenchRow> rows) {
        int f = config.downsampleFactor();
        if (imageSize % f != 0) {
            throw new UsageException("--image-size " + imageSize + " is not a multiple of " + preset
                    + "'s VAE factor " + f);
        }
        withWeights(peak, (weights, bench) -> {
            AutoencoderKL vae = new AutoencoderKL(config);
            StateDicts.initRandom(vae, weights, 1234);
            rows.add(report(out, bench.vaeDecode(preset, label, vae, imageSize / f, imageSize / f)));
        });
    }

    private interface WeightsWork {
        void run(NDManager weights, ComponentBench bench);
    }

    /** Each component's weights live only while it is timed. */
    private void withWeights(double peak, WeightsWork work) {
        try (NDManager weights = NDManager.newBaseManager()) {
            work.run(weights, bench(weights, peak));
        }
    }

    private ComponentBench bench(NDManager weights, double peak) {
        ComponentBench bench = new ComponentBench(weights, peak, warmup, repeats);
        if (profileDir != null) {
            PrintWriter out = spec.commandLine().getOut();
            bench.profiling(profileDir, line -> {
                out.println(line);
                out.flush();
            });
        }
        return bench;
    }

    private record PresetResult(List<BenchRow> rows, long peakRssBytes) {}

    /** Runs this command for one preset in a fresh JVM, streaming its output, and reads back its JSON. */
    private PresetResult benchInChild(String preset, double peak, PrintWriter out) {
        Path dir = tempDir();
        Path childJson = dir.resolve(preset + ".json");
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench",
                "--in-process", "--preset", preset, "--gemm-peak", Double.toString(peak), "--json", childJson.toString(),
                "--latent", Integer.toString(latent), "--image-size", Integer.toString(imageSize),
                "--train-batch", Integer.toString(trainBatch), "--repeats", Integer.toString(repeats),
                "--warmup", Integer.toString(warmup), "--components", String.join(",", components),
                "--batch", String.join(",", batches.stream().map(String::valueOf).toList())));
        if (skipLoad) {
            cmd.add("--skip-load");
        }
        if (threads != null) {
            cmd.addAll(List.of("--threads", threads.toString()));
        }
        if (profileDir != null) {
            cmd.addAll(List.of("--profile", profileDir.toAbsolutePath().toString()));
        }
        out.printf("%s (fresh JVM):%n", preset);
        out.flush();
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    // progress and errors pass through; the child's tables are merged into this JVM's, and
                    // libtorch's per-conv NNPACK warning is noise
                    if (!line.isBlank() && !line.startsWith("|") && !line.startsWith("wrote ")
                            && !line.contains("Could not initialize NNPACK")) {
                        out.println(line);
                        out.flush();
                    }
                }
            }
            int code = p.waitFor();
            if (code != 0 || !Files.isRegularFile(childJson)) {
                out.printf("  %s: the child JVM exited with code %d%n", preset, code);
                return null;
            }
            JsonNode doc = JsonConfig.MAPPER.readTree(Files.readString(childJson));
            List<BenchRow> rows = new ArrayList<>();
            for (JsonNode row : doc.get("rows")) {
                rows.add(JsonConfig.MAPPER.treeToValue(row, BenchRow.class));
            }
            return new PresetResult(rows, doc.get("peak_rss_bytes").get(preset).asLong());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run the benchmark of " + preset + " in a child JVM: " + e.getMessage(),
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MdxException("interrupted while benchmarking " + preset);
        } finally {
            deleteTree(dir);
        }
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
            Path file = dir.resolve(component.replace(' ', '_') + ".safetensors");
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
            ComponentBench bench = bench(weights, peak);
            UNet2DConditionModel[] unet = new UNet2DConditionModel[1];
            double ms = Stopwatch.onceMs(() -> unet[0] = UNet2DConditionModel.load(dir.resolve("unet"), weights));
            rows.add(report(out, BenchRow.of(name, "unet load", ms, 0, peak)));
            Integer sampleSize = unet[0].config().sampleSize();
            int size = sampleSize != null ? sampleSize : latent;
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
        out.printf("  %-28s %-30s %10.1f ms%n", row.model(), row.operation(), row.ms());
        out.flush();
        return row;
    }

    private static void printTable(List<BenchRow> rows, Map<String, Long> peakRss, PrintWriter out) {
        out.println();
        out.printf("| %-28s | %-30s | %10s | %10s | %9s | %9s | %7s |%n", "model", "operation", "ms", "CPU ms",
                "GFLOP", "GFLOP/s", "% peak");
        out.printf("|%s|%s|%s|%s|%s|%s|%s|%n", "-".repeat(30), "-".repeat(32), "-".repeat(11) + ":",
                "-".repeat(11) + ":", "-".repeat(10) + ":", "-".repeat(10) + ":", "-".repeat(8) + ":");
        for (BenchRow r : rows) {
            out.printf("| %-28s | %-30s | %10.1f | %10s | %9s | %9s | %7s |%n", r.model(), r.operation(), r.ms(),
                    r.cpuMs() > 0 ? String.format("%.1f", r.cpuMs()) : "",
                    r.flops() > 0 ? String.format("%.2f", r.flops() / 1e9) : "",
                    r.flops() > 0 ? String.format("%.1f", r.gflops()) : "",
                    r.flops() > 0 ? String.format("%.1f%%", r.percentOfPeak()) : "");
        }
        out.println();
        out.printf("| %-28s | %13s |%n", "model", "peak RSS (GB)");
        out.printf("|%s|%s|%n", "-".repeat(30), "-".repeat(14) + ":");
        peakRss.forEach((model, bytes) -> out.printf("| %-28s | %13.2f |%n", model, bytes / 1e9));
        out.flush();
    }

    private void writeJson(List<BenchRow> rows, Map<String, Long> peakRss, double peak) {
        ObjectNode doc = JsonConfig.MAPPER.createObjectNode();
        doc.put("cores", Runtime.getRuntime().availableProcessors());
        doc.put("cpu", cpuModel());
        doc.put("gemm_peak_gflops", peak);
        doc.put("engine_threads", threads == null ? "default" : threads.toString());
        doc.put("load_average", java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        doc.put("latent", latent);
        doc.put("image_size", imageSize);
        ObjectNode rss = doc.putObject("peak_rss_bytes");
        peakRss.forEach(rss::put);
        doc.set("rows", JsonConfig.MAPPER.valueToTree(rows));
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
