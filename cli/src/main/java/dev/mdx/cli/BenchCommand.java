package dev.mdx.cli;

import dev.mdx.MdxException;
import dev.mdx.bench.BenchResults;
import dev.mdx.bench.BenchRunner;
import dev.mdx.bench.BenchSettings;
import dev.mdx.bench.GemmPeak;
import dev.mdx.bench.Machine;
import dev.mdx.models.ArchitecturePresets;
import dev.mdx.tensor.Precision;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
                    + "+ backward at --train-batch), e2e (one --image-size image end to end at each --steps: text "
                    + "encoder, UNet calls, light and full decoder). Default: ${DEFAULT-VALUE}.")
    List<String> components;

    @Option(names = "--steps", split = ",", paramLabel = "N", defaultValue = "1",
            description = "Step counts of the e2e component. Default: ${DEFAULT-VALUE}.")
    List<Integer> steps;

    @Option(names = "--cfg", description = "e2e with classifier-free guidance (UNet batch 2, two prompts).")
    boolean cfg;

    @Option(names = "--no-full-decoder", description = "e2e times the light decoder only (presets that have one).")
    boolean noFullDecoder;

    @Option(names = "--precision", paramLabel = "P", defaultValue = "fp32",
            description = "fp32, or bf16 (convolutions, linear layers and attention in bfloat16; fp32 where the CPU "
                    + "lacks it). The train component always runs fp32. Default: ${DEFAULT-VALUE}.")
    String precision;

    @Option(names = "--in-process",
            description = "Run every preset in this JVM instead of one fresh JVM each (peak RSS then accumulates).")
    boolean inProcess;

    @Option(names = "--gemm-peak", paramLabel = "GFLOPS", hidden = true,
            description = "Use this GEMM peak instead of measuring it.")
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
        List<String> names = presets != null ? presets : ArchitecturePresets.NAMES;
        BenchSettings settings;
        // settings the bench package refuses are flag values to correct
        Precision requested = PrecisionFlag.parse(precision);
        try {
            settings = new BenchSettings(components, latent, imageSize, batches, trainBatch, warmup, repeats, skipLoad,
                    profileDir, threads, steps, cfg, !noFullDecoder, requested);
            names.forEach(settings::checkPreset);
        } catch (MdxException e) {
            throw new UsageException(e.getMessage());
        }
        ThreadsFlag.apply(threads);
        PrintWriter out = spec.commandLine().getOut();
        String note = Precision.fallbackNote(requested);
        if (note != null) {
            out.println("note: " + note);
            settings = new BenchSettings(components, latent, imageSize, batches, trainBatch, warmup, repeats, skipLoad,
                    profileDir, threads, steps, cfg, !noFullDecoder, Precision.FP32);
        }
        double peak;
        if (gemmPeak != null) {
            peak = gemmPeak;
        } else {
            out.printf("machine: %d cores, %s; measuring fp32 GEMM peak...%n", Machine.cores(), Machine.cpuModel());
            out.flush();
            peak = GemmPeak.measure(2048, 3);
            out.printf("GEMM peak (2048^3, fp32): %.1f GFLOP/s; load average %.1f; models run in %s%n%n", peak,
                    Machine.loadAverage(), settings.precision().name().toLowerCase(java.util.Locale.ROOT));
        }
        BenchResults results = new BenchRunner(settings, peak, line -> {
            out.println(line);
            out.flush();
        }).run(names, models, !inProcess);
        results.printTables(out);
        if (json != null) {
            results.writeReport(json, settings, peak);
            out.println("wrote " + json);
        }
        if (!results.failed().isEmpty()) {
            throw new MdxException("benchmark failed for preset(s): " + String.join(", ", results.failed())
                    + " (their output is above)");
        }
    }
}
