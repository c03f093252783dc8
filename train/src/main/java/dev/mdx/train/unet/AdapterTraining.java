package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mdx.control.AdapterConfig;
import dev.mdx.control.ConditionType;
import dev.mdx.control.ControlAdapter;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.pipeline.PipelineConfig;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.train.Rng;
import dev.mdx.train.StepContext;
import dev.mdx.train.Trainer;
import dev.mdx.train.data.ImageDataset;
import dev.mdx.unet.ControlResiduals;
import dev.mdx.unet.UNet2DConditionModel;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code mdx train adapter}: trains a {@link ControlAdapter} on a frozen base pipeline with the denoising objective,
 * the condition map of each training image extracted on the fly when the run starts. Only the adapter's weights
 * are trained and checkpointed (the UNet's have no gradient); resumable like every stage. Exports
 * {@code OUT/adapter.safetensors} (fp16, its config in the metadata), which goes into {@code MODEL/adapters/} as
 * {@code TYPE.safetensors}.
 *
 * <p>Config: {@code trainer} and {@code data} as stage unet, {@code base}, and an {@code adapter} object:
 * {@code condition} ({@code canny} or {@code mask}, required), {@code channels} (per UNet level; default half the
 * UNet's), {@code res_blocks} (2), {@code mid_block} (false: also add a residual to the mid block), and
 * {@code timesteps} ({@code uniform}, or {@code cubic}: T2I-Adapter's bias towards the noisy early steps,
 * t = (1 - u^3) T, which gave too little signal on the bundled epsilon-prediction models; docs/CONTROL.md).
 */
public final class AdapterTraining {
    public static final String EXPORT_FILE = "adapter.safetensors";
    public static final String FLAGS_CONFIG_FILE = "adapter_config.json";
    private static final List<String> ADAPTER_KEYS = List.of("condition", "channels", "res_blocks", "mid_block",
            "timesteps");

    private AdapterTraining() {}

    /** The adapter section: the adapter's shape for {@code unet}, and whether timesteps lean to the noisy end. */
    record Settings(AdapterConfig adapter, boolean cubic) {}

    static Settings settings(JsonConfig c, UNet2DConditionModel unet, int vaeFactor) {
        FromPipeline.rejectUnknown(c, ADAPTER_KEYS);
        if (!c.has("condition")) {
            throw c.error("condition", "is required: " + ConditionType.names());
        }
        ConditionType type;
        try {
            type = ConditionType.parse(c.getString("condition", ""));
        } catch (IllegalArgumentException e) {
            throw c.error("condition", e.getMessage());
        }
        AdapterConfig d = AdapterConfig.forUnet(unet.config(), vaeFactor, type);
        List<Integer> widths = d.channels();
        if (c.has("channels")) {
            widths = java.util.Arrays.stream(c.getInts("channels", new int[0])).boxed().toList();
        }
        String timesteps = c.getString("timesteps", "uniform");
        if (!timesteps.equals("cubic") && !timesteps.equals("uniform")) {
            throw c.error("timesteps", "must be cubic or uniform, got " + timesteps);
        }
        try {
            return new Settings(new AdapterConfig(type, 1, vaeFactor, widths, c.getInt("res_blocks", d.resBlocks()),
                    d.unetChannels(), c.getBool("mid_block", false)), timesteps.equals("cubic"));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(c.source() + ": " + e.getMessage());
        }
    }

    public static Trainer.Result run(Path configFile, Path outDir, boolean resume, PrintStream out) {
        FromPipeline p = FromPipeline.read(configFile, "base");
        JsonConfig data = UNetTraining.section(p.doc, "data");
        try (NDManager weights = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = p.loadUnet(weights);
            int vaeFactor = PipelineConfig.read(p.folder).vaeScaleFactor();
            Settings settings = settings(p.section("adapter"), unet, vaeFactor);
            LatentBatchSource latents = p.batches(outDir, weights, out);
            ImageDataset dataset = ImageDataset.open(p.base.resolve(UNetTraining.requireString(data, "dataset")));
            int[] indices = UNetTraining.trainingIndices(data, dataset, DataSelection.of(data), p.trainer);
            ConditionedBatchSource batches = ConditionedBatchSource.extract(latents, dataset, indices,
                    settings.adapter().condition(), out);
            TextConditioning text = p.text(weights);
            ControlAdapter adapter = new ControlAdapter(settings.adapter());
            adapter.initialize(weights, p.trainer.seed());
            DiffusionLoss diffusion = new DiffusionLoss(unet, text.textEncoder(), text.tokenizer(),
                    NoiseSchedule.of(p.schedule), p.schedule.predictionType());
            out.printf(Locale.ROOT, "%s adapter %s (%,d parameters, %.1f%% of the frozen UNet's %,d); %s timesteps;"
                    + " %d training examples%n", settings.adapter().condition(), settings.adapter().channels(),
                    adapter.parameterCount(), 100.0 * adapter.parameterCount() / unet.parameterCount(),
                    unet.parameterCount(), settings.cubic() ? "cubic" : "uniform", batches.size());
            Trainer.Result result;
            try (Trainer<ConditionedBatch> t = Trainer.builder(adapter,
                    (ConditionedBatch b, StepContext ctx) -> loss(adapter, diffusion, b, ctx, settings.cubic()),
                    batches, p.trainer, outDir).progress(out, false).build()) {
                result = t.run(resume);
                if (!result.stopped()) {
                    Path file = outDir.resolve(EXPORT_FILE);
                    Map<String, NDArray> ema = t.ema() != null ? t.ema().shadows() : Map.of();
                    Map<String, NDArray> values = new LinkedHashMap<>();
                    adapter.namedParameters().forEach((k, param) -> values.put(k, ema.getOrDefault(k, param.get())));
                    Path baseDir = p.folder.root().toAbsolutePath().normalize();
                    export(file, values, settings.adapter(), baseDir, result.step());
                    out.printf(Locale.ROOT, "exported %s; use it with: mdx generate -m %s --adapter %s"
                            + " --control-from PHOTO (or copy it to %s/adapters/%s.safetensors)%n", file, baseDir,
                            file, baseDir, settings.adapter().condition());
                }
            }
            return result;
        }
    }

    /** The denoising loss with the adapter's features of the batch's maps added to the frozen UNet. */
    static NDArray loss(ControlAdapter adapter, DiffusionLoss diffusion, ConditionedBatch batch, StepContext ctx,
            boolean cubic) {
        ControlResiduals residuals = adapter.forward(batch.conditions());
        int b = (int) batch.conditions().getShape().get(0);
        return diffusion.denoise(batch.latents(), ctx, timesteps(ctx.rng(), b, diffusion.numTrainTimesteps(), cubic),
                residuals).loss();
    }

    /** Uniform over [0, T), or T2I-Adapter's cubic t = (1 - u^3) T, which favours the noisy end. */
    static int[] timesteps(Rng rng, int batch, int steps, boolean cubic) {
        int[] t = new int[batch];
        for (int i = 0; i < batch; i++) {
            if (cubic) {
                double u = rng.nextDouble();
                t[i] = Math.min(steps - 1, (int) ((1 - u * u * u) * steps));
            } else {
                t[i] = rng.nextInt(steps);
            }
        }
        return t;
    }

    /** The adapter in fp16 with its config and provenance in the metadata, written atomically. */
    static void export(Path file, Map<String, NDArray> values, AdapterConfig config, Path base, long steps) {
        try (NDManager scope = NDManager.newBaseManager()) {
            Map<String, NDArray> half = new LinkedHashMap<>();
            values.forEach((k, v) -> {
                NDArray h = v.toType(DataType.FLOAT16, true);
                h.attach(scope);
                half.put(k, h);
            });
            SafeTensorsWriter.write(file, half, Map.of(AdapterConfig.METADATA_KEY, config.toJson(), "mdx_base",
                    base.toString(), "mdx_steps", Long.toString(steps)));
        }
    }

    /**
     * The config of {@code mdx train adapter --base MODEL --data DIR --condition TYPE}: {@code template} (or the
     * defaults: 2000 steps of batch 16 at learning rate 1e-3) with those values set, written with absolute paths to
     * {@code OUT/adapter_config.json}.
     */
    public static Path writeConfig(Path template, Path base, Path data, ConditionType condition, Path outDir) {
        return FromPipeline.writeFlagsConfig(template, DEFAULT_CONFIG, base, data, outDir.resolve(FLAGS_CONFIG_FILE),
                doc -> {
                    if (condition != null) {
                        doc.with("adapter").put("condition", condition.cliName());
                    } else if (!doc.with("adapter").hasNonNull("condition")) {
                        throw new ModelFormatException("no condition: give --condition " + ConditionType.names());
                    }
                });
    }

    private static final String DEFAULT_CONFIG = """
            {"trainer": {"max_train_steps": 2000, "train_batch_size": 16, "learning_rate": 1e-3,
                         "lr_warmup_steps": 50, "checkpointing_steps": 250, "use_ema": false, "log_every": 50},
             "data": {"split": "train", "max_examples": 8000, "caption_dropout": 0.1},
             "adapter": {"timesteps": "uniform"}}""";
}
