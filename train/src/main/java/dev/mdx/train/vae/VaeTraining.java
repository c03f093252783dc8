package dev.mdx.train.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.MdxException;
import dev.mdx.bench.Stopwatch;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.StateDictMismatchException;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Parameter;
import dev.mdx.train.Checkpoints;
import dev.mdx.train.HookContext;
import dev.mdx.train.Rng;
import dev.mdx.train.Trainer;
import dev.mdx.train.TrainingHook;
import dev.mdx.train.TrainingLog;
import dev.mdx.train.data.DataOrder;
import dev.mdx.train.data.ImageDataset;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.VaeConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The VAE stages: train an AutoencoderKL (or a light decoder against a frozen encoder) with the shared
 * {@link Trainer}, then export the run's EMA weights as a diffusers {@code vae/} folder with the measured scaling
 * factor, and report reconstruction PSNR, fp16 agreement, parameter counts and decode times.
 */
public final class VaeTraining {
    /** The exported folder inside the run's output folder. */
    public static final String VAE_DIR = "vae";
    public static final String REPORT = "report.json";
    public static final String PROBE_LOG = "probe_log.csv";

    /** Separates the scaling-factor sample from the training stream. */
    private static final long SCALING_STREAM = 0x5343414c45L;
    private static final int EVAL_BATCH = 32;
    private static final int GRID_IMAGES = 16;
    private VaeTraining() {}

    /** What the export measured. */
    public record Report(String stage, long steps, double trainSeconds, double lastLoss, long parameters,
            long encoderParameters, long decoderParameters, double scalingFactor, double latentMean,
            double latentStd, int evalImages, double psnrFp32, double psnrShipped, String shippedDtype,
            double decodeMsDataSize, int benchmarkImageSize, double decodeMsBenchmark, Path vaeDir) {

        ObjectNode toJson() {
            ObjectNode o = JsonConfig.MAPPER.createObjectNode();
            o.put("stage", stage);
            o.put("steps", steps);
            o.put("train_seconds", trainSeconds);
            o.put("last_loss", lastLoss);
            o.put("parameters", parameters);
            o.put("encoder_parameters", encoderParameters);
            o.put("decoder_parameters", decoderParameters);
            o.put("scaling_factor", scalingFactor);
            putFinite(o, "latent_mean", latentMean);
            putFinite(o, "latent_std", latentStd);
            o.put("eval_images", evalImages);
            o.put("psnr_fp32_db", psnrFp32);
            o.put("psnr_shipped_db", psnrShipped);
            o.put("shipped_dtype", shippedDtype);
            o.put("decode_ms_data_size", decodeMsDataSize);
            o.put("benchmark_image_size", benchmarkImageSize);
            o.put("decode_ms_benchmark", decodeMsBenchmark);
            o.put("vae_dir", vaeDir.toString());
            return o;
        }

        /** NaN (not measured, e.g. the light decoder's latents) is written as null. */
        private static void putFinite(ObjectNode o, String key, double v) {
            if (Double.isFinite(v)) {
                o.put(key, v);
            } else {
                o.putNull(key);
            }
        }

        public String summary() {
            return String.format(Locale.ROOT, "%s: %d steps in %.0f s, last loss %.5f; params %d (encoder %d, decoder"
                    + " %d); scaling_factor %.5f (latent mean %.4f, std %.4f); PSNR on %d held-out images %.3f dB"
                    + " (fp32) / %.3f dB (%s shipped); decode %.1f ms at the data size, %.0f ms at %dx%d; %s",
                    stage, steps, trainSeconds, lastLoss, parameters, encoderParameters, decoderParameters,
                    scalingFactor, latentMean, latentStd, evalImages, psnrFp32, psnrShipped, shippedDtype,
                    decodeMsDataSize, decodeMsBenchmark, benchmarkImageSize, benchmarkImageSize, vaeDir);
        }
    }

    /** Trains (resuming when asked) and exports. */
    public static Report trainAndExport(VaeStageConfig cfg, Path outDir, boolean resume, PrintStream out) {
        ImageDataset dataset = ImageDataset.open(cfg.dataset());
        Trainer.Result result;
        try (NDManager weights = NDManager.newBaseManager()) {
            AutoencoderKL model = initialModel(cfg, weights);
            out.printf(Locale.ROOT, "%s: %d parameters (encoder %d, decoder %d), %d trained%n", stageName(cfg),
                    model.parameterCount(), model.encoder().parameterCount(), model.decoder().parameterCount(),
                    model.namedParameters().entrySet().stream().filter(e -> trainable(cfg).test(e.getKey()))
                            .mapToLong(e -> e.getValue().shape().size()).sum());
            ImageBatches batches = new ImageBatches(dataset, cfg.split(), cfg.trainer().seed(),
                    cfg.trainer().trainBatchSize(), cfg.vae().inChannels(), cfg.cropSize(),
                    cfg.vae().downsampleFactor());
            try (Trainer<NDArray> trainer = Trainer.builder(model, new VaeLoss(model, cfg.loss()), batches,
                    cfg.trainer(), outDir).trainable(trainable(cfg)).hook(probeHook(cfg, dataset, out)).build()) {
                result = trainer.run(resume);
            }
        }
        if (result.stopped()) {
            out.println("stopped before the last step: not exporting (resume to finish)");
            return null;
        }
        return export(cfg, outDir, out);
    }

    static String stageName(VaeStageConfig cfg) {
        return cfg.stage().name().toLowerCase(Locale.ROOT);
    }

    /** Stage vae trains everything; the light decoder trains the decoder side only. */
    static Predicate<String> trainable(VaeStageConfig cfg) {
        return cfg.stage() == VaeStageConfig.Stage.VAE ? k -> true
                : k -> k.startsWith("decoder.") || k.startsWith("post_quant_conv.");
    }

    /** Random weights; for the light decoder, every non-decoder weight from the frozen VAE. */
    static AutoencoderKL initialModel(VaeStageConfig cfg, NDManager weights) {
        AutoencoderKL model = new AutoencoderKL(cfg.vae());
        StateDicts.initRandom(model, weights, cfg.trainer().seed());
        if (cfg.stage() == VaeStageConfig.Stage.LIGHT_DECODER) {
            loadAllBut(model, cfg.frozenVae().resolve(VaeFolder.WEIGHTS), "decoder.", weights);
        }
        return model;
    }

    /** Loads every model key not starting with {@code skipPrefix} from {@code file}, strictly for those keys. */
    static void loadAllBut(AutoencoderKL model, Path file, String skipPrefix, NDManager weights) {
        try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
            List<String> missing = new ArrayList<>();
            List<String> misShaped = new ArrayList<>();
            Map<String, Parameter> params = model.namedParameters();
            params.forEach((k, p) -> {
                if (k.startsWith(skipPrefix)) {
                    return;
                }
                if (!st.contains(k)) {
                    missing.add(k);
                } else if (!st.info(k).shape().equals(p.shape())) {
                    misShaped.add(k + ": file has " + st.info(k).shape() + ", model expects " + p.shape());
                }
            });
            if (!missing.isEmpty() || !misShaped.isEmpty()) {
                throw new StateDictMismatchException(file.toString(), missing, List.of(), misShaped);
            }
            params.forEach((k, p) -> {
                if (!k.startsWith(skipPrefix)) {
                    NDArray old = p.get();
                    p.set(st.load(k, weights, DataType.FLOAT32));
                    old.close();
                }
            });
        }
    }

    /** Every {@code sample_every} steps: PSNR of the EMA weights on the first held-out images, printed and logged. */
    static TrainingHook probeHook(VaeStageConfig cfg, ImageDataset dataset, PrintStream out) {
        int n = cfg.export().probeImages();
        if (n == 0) {
            return null;
        }
        int[] all = dataset.indices(cfg.export().evalSplit());
        int[] probe = Arrays.copyOf(all, Math.min(n, all.length));
        return (HookContext ctx) -> {
            AutoencoderKL model = (AutoencoderKL) ctx.model();
            double psnr = ctx.withEmaWeights(() -> VaeMetrics.psnr(model, dataset, probe, cfg.vae().inChannels(),
                    EVAL_BATCH, ctx.scope()));
            String row = String.format(Locale.ROOT, "%d,%.4f", ctx.step(), psnr);
            out.printf(Locale.ROOT, "%nstep %d: probe PSNR %.3f dB on %d held-out images%n", ctx.step(), psnr,
                    probe.length);
            appendLine(ctx.outDir().resolve(PROBE_LOG), "step,psnr_db", row);
        };
    }

    private static void appendLine(Path file, String header, String row) {
        try {
            if (!Files.exists(file)) {
                Files.writeString(file, header + "\n", StandardCharsets.UTF_8);
            }
            Files.writeString(file, row + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Exports the newest checkpoint of a finished run: EMA weights (raw ones when the run kept no EMA), the scaling
     * factor (measured for stage vae, the frozen VAE's for a light decoder), PSNR in fp32 and as shipped, decode
     * times; writes {@code OUT/vae/} and {@code OUT/report.json}.
     */
    public static Report export(VaeStageConfig cfg, Path outDir, PrintStream out) {
        Checkpoints.Checkpoint last = new Checkpoints(outDir, cfg.trainer().checkpointsTotalLimit()).latest()
                .orElseThrow(() -> new MdxException(outDir + " holds no checkpoint to export"));
        Path weightsFile = Files.isRegularFile(last.ema()) ? last.ema() : last.model();
        ImageDataset dataset = ImageDataset.open(cfg.dataset());
        int channels = cfg.vae().inChannels();
        ImageBatches.checkChannels(dataset, channels);
        JsonConfig state = JsonConfig.read(last.state());
        double trainSeconds = state.getDouble("elapsed_seconds", 0);
        try (NDManager weights = NDManager.newBaseManager()) {
            AutoencoderKL model = new AutoencoderKL(cfg.vae());
            model.loadWeights(weightsFile, weights);
            out.println("exporting " + weightsFile);
            VaeConfig config = cfg.vae();
            VaeMetrics.LatentStats stats = null;
            if (cfg.stage() == VaeStageConfig.Stage.VAE) {
                int[] pool = dataset.indices(cfg.split());
                int[] sample = firstOfShuffle(pool, cfg.trainer().seed(), cfg.export().scalingImages());
                stats = VaeMetrics.latentStats(model, dataset, sample, channels, EVAL_BATCH,
                        Rng.derived(cfg.trainer().seed(), SCALING_STREAM, 0), weights);
                config = config.withScalingFactor(stats.scalingFactor());
                out.printf(Locale.ROOT, "latents of %d training images: mean %.5f, std %.5f -> scaling_factor %.5f%n",
                        stats.images(), stats.mean(), stats.std(), stats.scalingFactor());
            }
            int[] eval = dataset.indices(cfg.export().evalSplit());
            if (cfg.export().evalImages() > 0 && eval.length > cfg.export().evalImages()) {
                eval = Arrays.copyOf(eval, cfg.export().evalImages());
            }
            double psnr32 = VaeMetrics.psnr(model, dataset, eval, channels, EVAL_BATCH, weights);
            out.printf(Locale.ROOT, "PSNR fp32 on %d '%s' images: %.4f dB%n", eval.length, cfg.export().evalSplit(),
                    psnr32);
            Path vaeDir = outDir.resolve(VAE_DIR);
            boolean half = cfg.export().float16();
            double shipped = psnr32;
            if (half) {
                VaeFolder.write(vaeDir, config, model, true);
                shipped = psnrOfFolder(vaeDir, dataset, eval, channels);
                out.printf(Locale.ROOT, "PSNR fp16: %.4f dB (change %+.4f dB, tolerance %.3f)%n", shipped,
                        shipped - psnr32, cfg.export().fp16ToleranceDb());
                if (Math.abs(shipped - psnr32) > cfg.export().fp16ToleranceDb()) {
                    out.println("fp16 weights change PSNR beyond the tolerance: shipping fp32");
                    half = false;
                }
            }
            if (!half) {
                VaeFolder.write(vaeDir, config, model, false);
                shipped = psnr32;
            }
            writeReconstructions(cfg, model, dataset, eval, outDir.resolve(ReconstructionGrid.FILE), weights);
            out.println("timing decodes (batch 1)");
            double msData = decodeMs(model, config, config.sampleSize() / config.downsampleFactor(), 3, weights);
            int bench = cfg.export().benchmarkImageSize();
            double ms512 = bench == 0 ? Double.NaN
                    : decodeMs(model, config, bench / config.downsampleFactor(), 1, weights);
            Report report = new Report(stageName(cfg), last.step(), trainSeconds, lastLoss(outDir),
                    model.parameterCount(), model.encoder().parameterCount(), model.decoder().parameterCount(),
                    config.scalingFactor(), stats == null ? Double.NaN : stats.mean(),
                    stats == null ? Double.NaN : stats.std(), eval.length, psnr32, shipped, half ? "float16" : "float32",
                    msData, bench, ms512, vaeDir);
            writeReport(outDir.resolve(REPORT), report);
            out.println(report.summary());
            return report;
        }
    }

    /** 16 held-out images: real, (for a light decoder: the frozen VAE's full decoder,) this model's decoder. */
    private static void writeReconstructions(VaeStageConfig cfg, AutoencoderKL model, ImageDataset dataset,
            int[] eval, Path png, NDManager weights) {
        int[] items = Arrays.copyOf(eval, Math.min(eval.length, GRID_IMAGES));
        List<AutoencoderKL> vaes = new ArrayList<>();
        if (cfg.frozenVae() != null) {
            vaes.add(AutoencoderKL.load(cfg.frozenVae(), weights));
        }
        vaes.add(model);
        ReconstructionGrid.write(png, dataset, items, vaes, cfg.vae().inChannels(), weights);
    }

    private static double psnrOfFolder(Path vaeDir, ImageDataset dataset, int[] eval, int channels) {
        try (NDManager weights = NDManager.newBaseManager()) {
            AutoencoderKL shipped = AutoencoderKL.load(vaeDir, weights);
            return VaeMetrics.psnr(shipped, dataset, eval, channels, EVAL_BATCH, weights);
        }
    }

    /** The first {@code n} of a seeded shuffle of {@code pool}, so the sample spans the whole split. */
    static int[] firstOfShuffle(int[] pool, long seed, int n) {
        DataOrder order = new DataOrder(pool, seed);
        return order.next(Math.min(n, pool.length));
    }

    /** Median of {@code repeats} timed decodes (after one warm-up) of one (1, latent_channels, size, size) latent. */
    static double decodeMs(AutoencoderKL model, VaeConfig config, int latentSize, int repeats, NDManager parent) {
        Shape shape = new Shape(1, config.latentChannels(), latentSize, latentSize);
        return Stopwatch.median(() -> {
            try (NDManager scope = parent.newSubManager()) {
                NDArray image = model.decode(scope.randomNormal(shape));
                image.toFloatArray();
            }
        }, 1, repeats).wallMs();
    }

    private static double lastLoss(Path outDir) {
        Path log = outDir.resolve(TrainingLog.FILE);
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            String last = lines.get(lines.size() - 1);
            return last.startsWith("step") ? Double.NaN : Double.parseDouble(last.split(",")[1]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    private static void writeReport(Path file, Report report) {
        AtomicFiles.writeBytes(file, (JsonConfig.pretty(report.toJson()) + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
