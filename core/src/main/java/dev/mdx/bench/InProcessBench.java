package dev.mdx.bench;

import ai.djl.ndarray.NDManager;
import dev.mdx.io.StateDicts;
import dev.mdx.models.ArchitecturePresets;
import dev.mdx.nn.Module;
import dev.mdx.tensor.Precision;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.VaeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Times model components in this JVM: a preset's with random weights, or a diffusers pipeline folder's as they
 * are. Each row is also reported as a progress line as soon as it is measured.
 */
public final class InProcessBench {
    private static final long SEED = 1234;
    private final BenchSettings settings;
    private final double peakGflops;
    private final Consumer<String> out;

    /**
     * @param peakGflops the GEMM peak the rows' rates are read against
     * @param out receives a line per measured row and, when profiling, the profiler's lines
     */
    public InProcessBench(BenchSettings settings, double peakGflops, Consumer<String> out) {
        this.settings = settings;
        this.peakGflops = peakGflops;
        this.out = out;
    }

    /** The settings' components of a preset, in their order, with random weights, in the settings' precision. */
    public List<BenchRow> preset(String preset) {
        settings.checkPreset(preset);
        try (Precision.Scope p = Precision.use(settings.precision())) {
            return presetComponents(preset);
        }
    }

    private List<BenchRow> presetComponents(String preset) {
        List<BenchRow> rows = new ArrayList<>();
        for (String component : settings.components()) {
            switch (component) {
                case "text" -> withWeights((weights, bench) -> {
                    ClipTextModel text = new ClipTextModel(ArchitecturePresets.textEncoder(preset));
                    rows.add(initAndLoad(preset, "text encoder", text, weights));
                    rows.add(report(bench.textEncoder(preset, text, 1)));
                });
                case "unet" -> withWeights((weights, bench) -> {
                    UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(ArchitecturePresets.unet(preset));
                    rows.add(initAndLoad(preset, "unet", unet, weights));
                    for (int b : settings.batches()) {
                        rows.add(report(bench.unet(preset, unet, b, settings.latent(), settings.latent())));
                    }
                });
                case "vae" -> {
                    decoder(preset, "vae decode", ArchitecturePresets.vae(preset), rows);
                    if (ArchitecturePresets.has(preset, ArchitecturePresets.VAE_LIGHT)) {
                        decoder(preset, "vae decode (light)", ArchitecturePresets.vaeLight(preset), rows);
                    }
                }
                case "train" -> withWeights((weights, bench) -> {
                    UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(ArchitecturePresets.unet(preset));
                    StateDicts.initRandom(unet, weights, SEED);
                    int s = sampleSizeOr(unet, settings.latent());
                    rows.add(report(bench.unetTrainStep(preset, unet, settings.trainBatch(), s, s)));
                });
                case "e2e" -> withWeights((weights, bench) -> rows.addAll(endToEnd(preset, weights)));
                default -> throw new IllegalStateException(component);
            }
        }
        return rows;
    }

    /**
     * A diffusers pipeline folder's UNet (at its sample_size, else the settings' latent), VAE decoder and text
     * encoder, each after the time it took to load.
     */
    public List<BenchRow> folder(Path dir) {
        List<BenchRow> rows = new ArrayList<>();
        String name = dir.getFileName().toString();
        try (NDManager weights = NDManager.newBaseManager()) {
            ComponentBench bench = componentBench(weights);
            UNet2DConditionModel[] unet = new UNet2DConditionModel[1];
            double ms = Stopwatch.onceMs(() -> unet[0] = UNet2DConditionModel.load(dir.resolve("unet"), weights));
            rows.add(report(BenchRow.of(name, "unet load", ms, 0, peakGflops)));
            int size = sampleSizeOr(unet[0], settings.latent());
            for (int b : settings.batches()) {
                rows.add(report(bench.unet(name, unet[0], b, size, size)));
            }
            AutoencoderKL[] vae = new AutoencoderKL[1];
            ms = Stopwatch.onceMs(() -> vae[0] = AutoencoderKL.load(dir.resolve("vae"), weights));
            rows.add(report(BenchRow.of(name, "vae load", ms, 0, peakGflops)));
            rows.add(report(bench.vaeDecode(name, vae[0], size, size)));
            ClipTextModel[] text = new ClipTextModel[1];
            ms = Stopwatch.onceMs(() -> text[0] = ClipTextModel.load(dir.resolve("text_encoder"), weights));
            rows.add(report(BenchRow.of(name, "text encoder load", ms, 0, peakGflops)));
            rows.add(report(bench.textEncoder(name, text[0], 1)));
        }
        return rows;
    }

    /** All of a preset's inference components at once, each of the settings' step counts end to end. */
    private List<BenchRow> endToEnd(String preset, NDManager weights) {
        ClipTextModel text = new ClipTextModel(ArchitecturePresets.textEncoder(preset));
        UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(ArchitecturePresets.unet(preset));
        AutoencoderKL light = ArchitecturePresets.has(preset, ArchitecturePresets.VAE_LIGHT)
                ? new AutoencoderKL(ArchitecturePresets.vaeLight(preset)) : null;
        AutoencoderKL full = light == null || settings.e2eFullDecoder()
                ? new AutoencoderKL(ArchitecturePresets.vae(preset)) : null;
        for (Module m : new Module[] {text, unet, full, light}) {
            if (m != null) {
                StateDicts.initRandom(m, weights, SEED);
            }
        }
        int latent = settings.imageSize() / ArchitecturePresets.vae(preset).downsampleFactor();
        EndToEndBench e2e = new EndToEndBench(peakGflops, settings.warmup(), settings.repeats());
        List<BenchRow> rows = new ArrayList<>();
        for (int steps : settings.steps()) {
            e2e.run(preset, text, unet, light, full, latent, steps, settings.guided(), weights).forEach(row ->
                    rows.add(report(row)));
        }
        return rows;
    }

    private static int sampleSizeOr(UNet2DConditionModel unet, int fallback) {
        Integer size = unet.config().sampleSize();
        return size != null ? size : fallback;
    }

    private void decoder(String preset, String label, VaeConfig config, List<BenchRow> rows) {
        int latent = settings.imageSize() / config.downsampleFactor();
        withWeights((weights, bench) -> {
            AutoencoderKL vae = new AutoencoderKL(config);
            StateDicts.initRandom(vae, weights, SEED);
            rows.add(report(bench.vaeDecode(preset, label, vae, latent, latent)));
        });
    }

    /** Each component's weights live only while it is timed. */
    private void withWeights(BiConsumer<NDManager, ComponentBench> work) {
        try (NDManager weights = NDManager.newBaseManager()) {
            work.accept(weights, componentBench(weights));
        }
    }

    private ComponentBench componentBench(NDManager weights) {
        ComponentBench bench = new ComponentBench(weights, peakGflops, settings.warmup(), settings.repeats());
        if (settings.profileDir() != null) {
            bench.profiling(settings.profileDir(), out);
        }
        return bench;
    }

    /** Random weights; unless skipped, also the time to load them back from a safetensors file. */
    private BenchRow initAndLoad(String preset, String component, Module module, NDManager weights) {
        double initMs = Stopwatch.onceMs(() -> StateDicts.initRandom(module, weights, SEED));
        if (settings.skipLoad()) {
            return report(BenchRow.of(preset, component + " random init", initMs, 0, peakGflops));
        }
        try (ScratchDir dir = new ScratchDir()) {
            Path file = dir.resolve(component.replace(' ', '_') + ".safetensors");
            StateDicts.save(module, file, Map.of("format", "pt"));
            double loadMs = Stopwatch.onceMs(() -> StateDicts.load(module, file, weights));
            return report(BenchRow.of(preset, component + " load (" + sizeMb(file) + " MB)", loadMs, 0, peakGflops));
        }
    }

    private BenchRow report(BenchRow row) {
        out.accept(String.format("  %-28s %-30s %10.1f ms%s", row.model(), row.operation(), row.ms(),
                row.spread().isEmpty() ? "" : " (" + row.spread() + ")"));
        return row;
    }

    private static long sizeMb(Path file) {
        try {
            return Files.size(file) / (1024 * 1024);
        } catch (IOException e) {
            return -1;
        }
    }
}
