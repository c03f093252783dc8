package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFolder;
import dev.mdx.io.ModelIndex;
import dev.mdx.io.ModelFormatException;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.io.StateDicts;
import dev.mdx.schedule.JsonNamed;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.schedule.PredictionType;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.text.ClipTextModel;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.train.Checkpoints;
import dev.mdx.train.Trainer;
import dev.mdx.train.TrainingConfig;
import dev.mdx.train.data.ImageDataset;
import dev.mdx.train.vae.ImageBatches;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.AutoencoderKL;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code mdx train unet}: trains a text-conditioned denoiser on the cached VAE latents of a captioned data set,
 * with a frozen text encoder, then exports a complete diffusers pipeline folder ({@code OUT/pipeline}) whose
 * UNet holds the EMA weights in fp16.
 *
 * <p>Config file: {@code trainer} (see TrainingConfig) plus {@code unet} (a config.json path or an inline
 * object; optional with {@code init_unet}), {@code text_encoder}, {@code tokenizer}, {@code vae} (folders), optional
 * {@code init_unet} (a pipeline or UNet folder whose UNet weights the run starts from), optional {@code scheduler} (a
 * scheduler_config.json; SD's DDIM schedule by default), {@code prediction_type}, and {@code data}
 * ({@code dataset} folder, {@code split}, {@code caption_dropout}, and the subset keys of {@link DataSelection}). Relative paths are resolved against the
 * config file's folder.
 */
public final class UNetTraining {
    /** Stable Diffusion's DDIM schedule, the default for models trained here. */
    static final String SD_SCHEDULER = "{\"_class_name\": \"DDIMScheduler\", \"num_train_timesteps\": 1000, "
            + "\"beta_start\": 0.00085, \"beta_end\": 0.012, \"beta_schedule\": \"scaled_linear\", "
            + "\"clip_sample\": false, \"set_alpha_to_one\": false, \"steps_offset\": 1, "
            + "\"timestep_spacing\": \"leading\"}";

    private UNetTraining() {}

    public static Trainer.Result run(Path configFile, Path outDir, boolean resume, PrintStream out) {
        JsonConfig doc = JsonConfig.read(configFile);
        Path base = configFile.toAbsolutePath().getParent();
        TrainingConfig trainer = TrainingConfig.fromDocument(doc);
        Setup setup = Setup.of(doc, base);

        try (NDManager weights = NDManager.newBaseManager()) {
            LatentBatchSource batches = latentBatches(doc, base, setup.vaeDir(), setup.unet(), trainer, outDir,
                    weights, out);
            ClipTextModel text = ClipTextModel.load(setup.textDir(), weights);
            ClipTokenizer tokenizer = ClipTokenizer.load(setup.tokenizerDir());
            UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(setup.unet());
            StateDicts.initRandom(unet, weights, trainer.seed());
            if (setup.init() != null) {
                // a resumed run then loads its checkpoint over these
                StateDicts.load(unet, setup.init().weights(), weights);
                out.println("UNet starts from " + setup.init().weights());
            }
            out.printf("UNet: %,d parameters; %d training examples of latent %s; %s%n", unet.parameterCount(),
                    batches.size(), batches.latentShape(), setup.prediction().jsonName());
            DiffusionLoss loss = new DiffusionLoss(unet, text, tokenizer,
                    NoiseSchedule.of(ScheduleConfig.parse(new JsonConfig("scheduler", setup.scheduler()))),
                    setup.prediction());
            Trainer.Result result;
            try (Trainer<LatentBatch> t = Trainer.builder(unet, loss, batches, trainer, outDir).progress(out,
                    false).build()) {
                result = t.run(resume);
                if (!result.stopped()) {
                    setup.export(outDir.resolve("pipeline"), emaWeights(t, unet, ""), "trained by mdx train unet"
                            + (setup.init() == null ? "" : ", starting from " + setup.init().weights()));
                    out.println("exported " + outDir.resolve("pipeline"));
                }
            }
            return result;
        }
    }

    /**
     * {@code mdx train unet --export-checkpoint}: the pipeline folder of one checkpoint of a run, to measure an
     * unfinished run with mdx eval or generate. The UNet holds the checkpoint's EMA weights (its raw weights when
     * the run keeps no EMA) in fp16; the other parts and the scheduler are those the config names, exactly as the
     * run's own export at its end. Writes {@code OUT/pipeline-step-N} atomically (replacing an older export of
     * that step) and returns it.
     *
     * @param step the checkpoint's step, or -1 for the newest
     */
    public static Path exportCheckpoint(Path configFile, Path outDir, long step, PrintStream out) {
        Checkpoints.Checkpoint checkpoint = checkpoint(outDir, step);
        Setup setup = Setup.of(JsonConfig.read(configFile), configFile.toAbsolutePath().getParent());
        boolean hasEma = Files.isRegularFile(checkpoint.ema());
        Path weightsFile = hasEma ? checkpoint.ema() : checkpoint.model();
        Path target = outDir.resolve("pipeline-step-" + checkpoint.step());
        try (NDManager scope = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(setup.unet());
            // strict: a checkpoint of another UNet (the config changed since) is refused with the keys that differ
            StateDicts.load(unet, weightsFile, scope);
            setup.export(target, StateDicts.tensors(unet), "exported by mdx train unet --export-checkpoint from step "
                    + checkpoint.step() + (hasEma ? " (EMA weights)" : " (raw weights: the run keeps no EMA)"));
        }
        out.printf("exported step %d (%s) to %s%n", checkpoint.step(), hasEma ? "EMA weights" : "raw weights", target);
        return target;
    }

    private static Checkpoints.Checkpoint checkpoint(Path outDir, long step) {
        List<Checkpoints.Checkpoint> all = new Checkpoints(outDir, 1).list();
        if (all.isEmpty()) {
            throw new ModelFormatException(outDir + " has no checkpoints (" + Checkpoints.FOLDER
                    + "/step-N); is it the run folder given to mdx train unet -o?");
        }
        if (step < 0) {
            return all.get(all.size() - 1);
        }
        return all.stream().filter(c -> c.step() == step).findFirst().orElseThrow(() -> new ModelFormatException(
                outDir + " has no checkpoint of step " + step + "; it has steps "
                        + all.stream().map(c -> String.valueOf(c.step())).toList()));
    }

    /**
     * What a run's config names besides training: the frozen parts, the UNet's shape, the weights it starts from
     * (null: random) and the noise schedule.
     */
    private record Setup(PredictionType prediction, Path textDir, Path tokenizerDir, Path vaeDir,
            ObjectNode scheduler, UNetConfig unet, InitUnet init) {
        static Setup of(JsonConfig doc, Path base) {
            PredictionType prediction = JsonNamed.parse(doc, "prediction_type", PredictionType.class,
                    PredictionType.EPSILON);
            if (prediction == PredictionType.SAMPLE) {
                throw doc.error("prediction_type", "must be \"epsilon\" or \"v_prediction\": the denoising loss has"
                        + " no \"sample\" target");
            }
            ObjectNode scheduler = doc.has("scheduler")
                    ? ScheduleConfig.readJson(base.resolve(doc.getString("scheduler", null))).copyRoot()
                    : (ObjectNode) JsonConfig.parse("default scheduler", SD_SCHEDULER).root();
            scheduler.put("prediction_type", prediction.jsonName());
            InitUnet init = InitUnet.of(doc, base);
            return new Setup(prediction, base.resolve(requireString(doc, "text_encoder")),
                    base.resolve(requireString(doc, "tokenizer")), base.resolve(requireString(doc, "vae")),
                    scheduler, unetConfig(doc, base, init), init);
        }

        void export(Path dir, Map<String, NDArray> weights, String note) {
            exportPipeline(dir, weights, unet, textDir, tokenizerDir, vaeDir, scheduler, note, index -> { });
        }
    }

    /**
     * The {@code data} section ({@code dataset}, {@code split}, {@code caption_dropout}) as batches of the split's
     * latents, encoded once through the VAE and cached in {@code OUT/latents.safetensors}.
     */
    static LatentBatchSource latentBatches(JsonConfig doc, Path base, Path vaeDir, UNetConfig unetConfig,
            TrainingConfig trainer, Path outDir, NDManager weights, PrintStream out) {
        JsonConfig data = section(doc, "data");
        Path datasetDir = base.resolve(requireString(data, "dataset"));
        double dropout = data.getDouble("caption_dropout", 0.1);
        if (dropout < 0 || dropout >= 1) {
            throw data.error("caption_dropout", "must be in [0, 1), got " + dropout);
        }
        ImageDataset dataset = ImageDataset.open(datasetDir);
        DataSelection selection = DataSelection.of(data);
        int[] indices = trainingIndices(data, dataset, selection, trainer);
        try (NDManager vaeScope = weights.newSubManager()) {
            AutoencoderKL vae = AutoencoderKL.load(vaeDir, vaeScope);
            ImageBatches.checkChannels(dataset, vae.config().inChannels());
            out.printf("encoding %d images to latents (cached in %s)...%n", indices.length, outDir);
            NDArray latents = LatentCache.load(outDir.resolve("latents.safetensors"), dataset, indices, vae, vaeScope,
                    out, selection.describe());
            List<List<String>> captions = new ArrayList<>();
            for (int i : indices) {
                captions.add(selection.captions(dataset.item(i).captions()));
            }
            Shape latentShape = latents.getShape().slice(1);
            if (latentShape.get(0) != unetConfig.inChannels()) {
                throw new ModelFormatException(doc.source() + ": the UNet takes " + unetConfig.inChannels()
                        + " channels but the VAE makes " + latentShape.get(0));
            }
            return new LatentBatchSource(latents.toFloatArray(), latentShape, captions, trainer.trainBatchSize(),
                    dropout, trainer.seed());
        }
    }

    /** The data set indices the {@code data} section trains on, in the order of the latent cache. */
    static int[] trainingIndices(JsonConfig data, ImageDataset dataset, DataSelection selection,
            TrainingConfig trainer) {
        return selection.filter(dataset, dataset.trainingPool(data.getString("split", "train"),
                trainer.trainBatchSize()), data.source());
    }

    /**
     * The weights to export of a UNet trained as {@code prefix + key} inside the trainer's model: the EMA value
     * where there is one, else the raw value; keys without the prefix.
     */
    static Map<String, NDArray> emaWeights(Trainer<?> trainer, UNet2DConditionModel unet, String prefix) {
        Map<String, NDArray> ema = trainer.ema() != null ? trainer.ema().shadows() : Map.of();
        Map<String, NDArray> out = new LinkedHashMap<>();
        unet.namedParameters().forEach((k, p) -> out.put(k, ema.getOrDefault(prefix + k, p.get())));
        return out;
    }

    /**
     * A diffusers pipeline folder: the trained UNet ({@code weights}, written in fp16) beside copies of the frozen
     * parts; {@code index} adds stage-specific keys to model_index.json. The folder is built in a hidden sibling and
     * renamed into place, replacing an older export, so {@code dir} never holds a half-written pipeline (between the
     * old one's removal and the rename there is briefly none).
     */
    static void exportPipeline(Path dir, Map<String, NDArray> weights, UNetConfig config, Path textDir,
            Path tokenizerDir, Path vaeDir, ObjectNode scheduler, String note,
            java.util.function.Consumer<ObjectNode> index) {
        Path tmp = dir.resolveSibling("." + dir.getFileName() + ".tmp");
        Checkpoints.deleteTree(tmp);
        writePipeline(tmp, weights, config, textDir, tokenizerDir, vaeDir, scheduler, note, index);
        try {
            Checkpoints.deleteTree(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void writePipeline(Path dir, Map<String, NDArray> weights, UNetConfig config, Path textDir,
            Path tokenizerDir, Path vaeDir, ObjectNode scheduler, String note,
            java.util.function.Consumer<ObjectNode> index) {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        try (NDManager scope = NDManager.newBaseManager()) {
            weights.forEach((k, v) -> {
                NDArray half = v.toType(DataType.FLOAT16, true);
                half.attach(scope);
                tensors.put(k, half);
            });
            SafeTensorsWriter.write(dir.resolve("unet").resolve("diffusion_pytorch_model.safetensors"), tensors,
                    Map.of("format", "pt"));
        }
        writeJson(dir.resolve("unet").resolve("config.json"), config.toJsonNode());
        copyTree(textDir, dir.resolve("text_encoder"));
        copyTree(tokenizerDir, dir.resolve("tokenizer"));
        copyTree(vaeDir, dir.resolve("vae"));
        writeJson(dir.resolve("scheduler").resolve("scheduler_config.json"), scheduler);
        ObjectNode modelIndex = ModelIndex.newJson(note, scheduler.path("_class_name").asText("DDIMScheduler"));
        index.accept(modelIndex);
        writeJson(dir.resolve(ModelIndex.FILE), modelIndex);
    }

    /**
     * The {@code init_unet} key: a pipeline folder or a UNet folder (config.json, diffusion_pytorch_model.safetensors)
     * whose UNet weights the run starts from instead of random ones (fine-tuning a trained model).
     */
    private record InitUnet(Path config, Path weights) {
        static InitUnet of(JsonConfig doc, Path base) {
            String name = doc.getString("init_unet", null);
            if (name == null) {
                return null;
            }
            Path dir = base.resolve(name);
            if (Files.isRegularFile(dir.resolve(ModelIndex.FILE))) {
                ModelFolder pipeline = ModelFolder.open(dir);
                return new InitUnet(pipeline.unetConfig(), pipeline.unetWeights());
            }
            Path config = dir.resolve("config.json");
            Path weights = dir.resolve("diffusion_pytorch_model.safetensors");
            if (!Files.isRegularFile(config) || !Files.isRegularFile(weights)) {
                throw doc.error("init_unet", "must be a pipeline folder or a UNet folder (config.json and"
                        + " diffusion_pytorch_model.safetensors); " + dir + " is neither");
            }
            return new InitUnet(config, weights);
        }
    }

    private static UNetConfig unetConfig(JsonConfig doc, Path base, InitUnet init) {
        JsonNode node = doc.root().get("unet");
        if (node == null && init == null) {
            throw doc.error("unet", "is missing (a UNet config.json path or an inline object; or init_unet)");
        }
        UNetConfig config = node == null ? UNetConfig.read(init.config()) : node.isTextual()
                ? UNetConfig.read(base.resolve(node.asText()))
                : UNetConfig.fromJson(new JsonConfig(doc.source() + " (unet)", node));
        if (config.hasTimeCondProj()) {
            // the denoising loss has no guidance scale to embed; distill's w_conditioned adds the input
            throw doc.error("unet", "has time_cond_proj_dim (a guidance input), which stage unet cannot train; leave"
                    + " it unset and add it with mdx train distill (distill.w_conditioned)");
        }
        return config;
    }

    static JsonConfig section(JsonConfig doc, String key) {
        JsonNode node = doc.root().get(key);
        if (node == null || !node.isObject()) {
            throw doc.error(key, "must be an object");
        }
        return new JsonConfig(doc.source() + " (" + key + ")", node);
    }

    static String requireString(JsonConfig c, String key) {
        String v = c.getString(key, null);
        if (v == null) {
            throw c.error(key, "is missing");
        }
        return v;
    }

    private static void writeJson(Path file, JsonNode json) {
        AtomicFiles.writeBytes(file, JsonConfig.pretty(json).getBytes(StandardCharsets.UTF_8));
    }

    private static void copyTree(Path from, Path to) {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + from + " to " + to + ": " + e.getMessage(), e);
        }
    }
}
