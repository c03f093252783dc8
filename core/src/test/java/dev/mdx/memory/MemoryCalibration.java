package dev.mdx.memory;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mdx.models.ArchitecturePresets;
import dev.mdx.bench.ResidentMemory;
import dev.mdx.io.ModelFolder;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.GuidanceEmbedding;
import dev.mdx.pipeline.GenerationRequest;
import dev.mdx.pipeline.PipelineConfig;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.VaeConfig;
import dev.mdx.vae.VaeTiling;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Measures the peak resident memory of one generation (text encoder, one UNet step, VAE decode) next to
 * {@link MemoryEstimator}'s estimate, each point in a fresh JVM; the table in docs/BENCHMARKS.md comes from here.
 *
 * <pre>
 * mvn -B -ntp -o -q test-compile -pl core -am
 * mvn -B -ntp -o -q dependency:build-classpath -pl core -Dmdep.outputFile=/tmp/mdx-cp.txt
 * java -cp core/target/classes:core/target/test-classes:$(cat /tmp/mdx-cp.txt) dev.mdx.memory.MemoryCalibration
 * </pre>
 *
 * Without arguments it runs the standard points one after the other, printing the table; arguments
 * {@code MODEL,SIZE,BATCH,TILE[,release]} run those points instead (MODEL a preset name, optionally + "/light", or
 * a pipeline folder; TILE the decode's tile in latent pixels, 0 for a whole decode; "release" calls
 * {@link NativeMemory#releaseFreed()} between the UNet step and the decode; both for presets only, as the
 * pipeline decodes whole and does not release). Each point prints a
 * {@code RAW} line of bytes; {@code --render FILE} redraws the table from saved RAW lines with the current
 * estimator. Per point the peak is reset ({@code /proc/self/clear_refs}) before the UNet phase and before the
 * decode, so each phase's peak is the process's resident high-water mark during it. Bundled models run through
 * the real pipeline (one step); presets get random weights and run the same step and decode directly.
 */
public final class MemoryCalibration {
    private static final String POINT = "--point";
    private static final String RAW = "RAW";
    private static final String RELEASE = "release";

    /** model, image side, UNet batch, decode tile (0 whole)[, release]. */
    private static final List<String> STANDARD = List.of(
            "models/emoji,64,2,0", "models/emoji,512,2,0", "models/emoji,1024,2,0", "models/emoji,2048,1,0",
            "models/fashion,256,2,0",
            "mobilediffusion-tiny,256,2,0", "mobilediffusion-tiny,1024,2,0", "mobilediffusion-tiny,1024,2,64",
            "mobilediffusion-tiny,1024,2,0,release",
            "mobilediffusion,512,2,0", "mobilediffusion,512,1,0", "mobilediffusion,1024,1,64",
            "sd15,256,2,0", "sd15,512,1,0", "sd15,512,2,0", "sd15,512,2,32", "sd15,512,2,0,release",
            "sd15/light,512,2,0");

    private MemoryCalibration() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals(POINT)) {
            System.out.println(RAW + " " + String.join(",", List.of(args).subList(1, args.length)) + " "
                    + measure(Point.parse(args[1])));
            return;
        }
        if (args.length == 2 && args[0].equals("--trace")) {
            trace(Point.parse(args[1]));
            return;
        }
        System.out.println(HEADER);
        if (args.length == 2 && args[0].equals("--render")) {
            for (String line : Files.readAllLines(Path.of(args[1]))) {
                if (line.startsWith(RAW + " ")) {
                    System.out.println(row(line));
                }
            }
            return;
        }
        for (String p : args.length > 0 ? List.of(args) : STANDARD) {
            String raw = runChild(p);
            System.out.println(raw.startsWith(RAW + " ") ? row(raw) + " <!-- " + raw + " -->" : raw);
        }
    }

    /** One calibration point. */
    private record Point(String model, int size, int batch, int tile, boolean release) {
        static Point parse(String spec) {
            String[] f = spec.split(",");
            return new Point(f[0], Integer.parseInt(f[1]), Integer.parseInt(f[2]), Integer.parseInt(f[3]),
                    f.length > 4 && f[4].equals(RELEASE));
        }

        VaeTiling tiling() {
            return tile > 0 ? VaeTiling.latentTiles(tile) : VaeTiling.NONE;
        }

        boolean folder() {
            return Files.isDirectory(Path.of(model));
        }

        /** The estimator of the point's configs, for a run that does or does not release memory between phases. */
        MemoryEstimator estimator() {
            MemoryEstimator e;
            if (folder()) {
                PipelineConfig c = PipelineConfig.read(ModelFolder.open(Path.of(model), null));
                e = new MemoryEstimator(c.unet(), c.vae(), c.textEncoder());
            } else {
                String preset = model.replace("/light", "");
                e = new MemoryEstimator(ArchitecturePresets.unet(preset), model.endsWith("/light") ? ArchitecturePresets.vaeLight(preset)
                        : ArchitecturePresets.vae(preset), ArchitecturePresets.textEncoder(preset));
            }
            return release ? e.releasingBetweenPhases() : e;
        }

        MemoryEstimate estimate() {
            return estimator().estimate(batch, size, size, tiling());
        }
    }

    private static String runChild(String spec) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(java, "-Xmx8g", "-Dai.djl.offline=true", "-cp",
                System.getProperty("java.class.path"), MemoryCalibration.class.getName(), POINT, spec);
        Path err = Files.createTempFile("mdx-memory", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
            pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
            Process proc = pb.start();
            String out = new String(proc.getInputStream().readAllBytes()).trim();
            if (proc.waitFor() == 0) {
                return out;
            }
            List<String> log = Files.readAllLines(err);
            return spec + ": failed: " + out + " " + String.join(" / ", log.subList(Math.max(0, log.size() - 5),
                    log.size()));
        } finally {
            Files.delete(err);
        }
    }

    /** "base weights unetPeak decodePeak" in bytes of resident memory. */
    private static String measure(Point p) {
        EngineThreads.set(2);
        try (NDManager root = NDManager.newBaseManager()) {
            root.zeros(new Shape(1)).add(1).toFloatArray(); // engine loaded and initialised
            long base = ResidentMemory.currentBytes();
            long[] m = p.folder() ? pipeline(p) : preset(root, p);
            return base + " " + m[0] + " " + m[1] + " " + m[2];
        }
    }

    /** A bundled model through the real pipeline, one step; the step callback ends the UNet phase. */
    private static long[] pipeline(Point p) {
        try (TextToImagePipeline pipe = TextToImagePipeline.load(Path.of(p.model()))) {
            long weights = ResidentMemory.currentBytes();
            GenerationRequest r = pipe.newRequest().prompt("a smiling cat").steps(1).size(p.size(), p.size())
                    .cfgScale(p.batch() == 2 ? 7.5 : 1.0).seed(1).build();
            long[] unetPeak = new long[1];
            resetPeak();
            pipe.generate(r, event -> {
                unetPeak[0] = ResidentMemory.peakBytes();
                resetPeak();
            });
            return new long[] {weights, unetPeak[0], ResidentMemory.peakBytes()};
        }
    }

    /** A preset with random weights, run as the pipeline runs one step and the decode. */
    private static long[] preset(NDManager root, Point p) {
        boolean light = p.model().endsWith("/light");
        String name = p.model().replace("/light", "");
        UNetConfig uc = ArchitecturePresets.unet(name);
        VaeConfig vc = light ? ArchitecturePresets.vaeLight(name) : ArchitecturePresets.vae(name);
        ClipTextConfig tc = ArchitecturePresets.textEncoder(name);
        NDManager weightsManager = root.newSubManager();
        ClipTextModel text = new ClipTextModel(tc);
        StateDicts.initRandom(text, weightsManager, 1);
        UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(uc);
        StateDicts.initRandom(unet, weightsManager, 2);
        AutoencoderKL vae = new AutoencoderKL(vc);
        StateDicts.initRandom(vae, weightsManager, 3);
        long weights = ResidentMemory.currentBytes();
        int f = vc.downsampleFactor();
        Shape latentShape = new Shape(1, uc.inChannels(), p.size() / f, p.size() / f);
        long unetPeak;
        try (NDManager scope = root.newSubManager()) {
            resetPeak();
            NDArray ids = scope.randomInteger(0, tc.vocabSize() - 1, new Shape(p.batch(), 77), DataType.INT64);
            NDArray context;
            try (NDManager textScope = scope.newSubManager()) {
                ids.tempAttach(textScope);
                context = text.forward(ids).lastHiddenState();
                context.attach(scope);
            }
            NDArray guidance = uc.hasTimeCondProj()
                    ? new GuidanceEmbedding(uc.timeCondProjDim()).ofScales(new double[] {4.0}, scope) : null;
            NDArray latents = scope.randomNormal(latentShape);
            try (NDManager step = scope.newSubManager()) {
                step.tempAttachAll(latents, context);
                NDArray input = p.batch() == 2 ? NDArrays.concat(new NDList(latents, latents), 0) : latents;
                NDArray out = unet.forward(input, step.create(new float[] {500f}), context, guidance);
                NDArray next = p.batch() == 2 ? out.split(2, 0).get(0) : out;
                next = latents.sub(next.mul(0.1f));
                next.attach(scope);
                latents = next;
            }
            unetPeak = ResidentMemory.peakBytes();
            if (p.release()) {
                NativeMemory.releaseFreed();
            }
            resetPeak();
            NDArray image = vae.decode(latents, p.tiling());
            image.toFloatArray();
        }
        return new long[] {weights, unetPeak, ResidentMemory.peakBytes()};
    }

    /**
     * One UNet forward of the point, printing at each top-level module the resident size above the start and the
     * peak since the previous module (through the probe, which sees every block's output), then the estimator's
     * walk at the same points.
     */
    private static void trace(Point p) {
        EngineThreads.set(2);
        UNetConfig uc;
        try (NDManager root = NDManager.newBaseManager()) {
            UNet2DConditionModel unet;
            if (p.folder()) {
                unet = UNet2DConditionModel.load(Path.of(p.model()).resolve("unet"), root);
            } else {
                unet = UNet2DConditionModel.fromConfig(ArchitecturePresets.unet(p.model().replace("/light", "")));
                StateDicts.initRandom(unet, root, 2);
            }
            uc = unet.config();
            int latent = p.size() / downsampleFactor(p);
            NDArray context = root.randomNormal(new Shape(p.batch(), 77, uc.crossAttentionDim().get(0)));
            long base = ResidentMemory.currentBytes();
            resetPeak();
            java.util.Map<String, NDArray> sink = new java.util.LinkedHashMap<>() {
                @Override
                public NDArray put(String key, NDArray value) {
                    if (!key.contains(".") || key.split("\\.").length == 2 && !key.startsWith("time")) {
                        System.out.printf(Locale.ROOT, "measured  %-16s held %7.0f MB, peak since the previous %7.0f"
                                + " MB%n", key, (ResidentMemory.currentBytes() - base) / 1e6,
                                (ResidentMemory.peakBytes() - base) / 1e6);
                        resetPeak();
                    }
                    return null; // nothing is kept beyond the forward pass's own scope
                }
            };
            try (NDManager scope = root.newSubManager()) {
                context.tempAttach(scope);
                NDArray x = scope.randomNormal(new Shape(p.batch(), uc.inChannels(), latent, latent));
                unet.forward(x, scope.create(new float[] {500f}), context, sink);
            }
        }
        Tally t = new Tally();
        UNetActivations.walk(t, uc, p.batch(), p.size() / downsampleFactor(p), p.size() / downsampleFactor(p), 77);
        t.checkpoints().forEach(line -> System.out.println("estimated " + line));
    }

    private static int downsampleFactor(Point p) {
        return p.folder() ? PipelineConfig.read(ModelFolder.open(Path.of(p.model()), null)).vaeScaleFactor()
                : ArchitecturePresets.vae(p.model().replace("/light", "")).downsampleFactor();
    }

    /** Resets VmHWM to the current resident size (Linux 4.0+). */
    private static void resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reset the peak resident size", e);
        }
    }

    private static final String HEADER = "| model | image | UNet batch | decode | freed memory released before the"
            + " decode | runtime + weights (measured) | UNet step peak (measured / estimate) | decode peak"
            + " (measured / estimate) | peak: measured | estimate | estimate / measured |\n"
            + "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|";

    /** A table row (GB) from a RAW line: "RAW spec base weights unetPeak decodePeak". */
    private static String row(String raw) {
        String[] f = raw.split(" ");
        Point p = Point.parse(f[1]);
        long base = Long.parseLong(f[2]);
        long weights = Long.parseLong(f[3]);
        long unetPeak = Long.parseLong(f[4]);
        long decodePeak = Long.parseLong(f[5]);
        MemoryEstimate e = p.estimate();
        long measured = Math.max(unetPeak, decodePeak);
        return String.format(Locale.ROOT, "| %s | %d | %d | %s | %s | %s + %s | %s / %s | %s / %s | %s | %s | %.2f |",
                p.model(), p.size(), p.batch(), p.tile() > 0 ? "tiles of " + p.tile() + " latent px" : "whole",
                p.release() ? "yes" : "no", gb(base),
                gb(weights - base), gb(unetPeak), gb(e.denoisePhase()), gb(decodePeak), gb(e.decodePhase()),
                gb(measured), gb(e.total()), (double) e.total() / measured);
    }

    private static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.2f", bytes / 1e9);
    }
}
