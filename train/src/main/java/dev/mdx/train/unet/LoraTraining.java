package dev.mdx.train.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.lora.LoraPart;
import dev.mdx.lora.LoraTargets;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.train.LossFunction;
import dev.mdx.train.StepContext;
import dev.mdx.train.Trainer;
import dev.mdx.unet.UNet2DConditionModel;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code mdx train lora}: trains a LoRA on a frozen base pipeline (the {@code base} folder) with the denoising
 * objective of stage unet on a captioned data set, and exports it in kohya's format ({@code OUT/lora.safetensors},
 * fp16), which {@code mdx generate --lora} and other engines load. Only the LoRA's down and up weights are trained
 * and checkpointed; the base weights are never written to (each step patches them for its forward pass only).
 *
 * <p>Config: {@code trainer} and {@code data} as stage unet, {@code base}, and an optional {@code lora} object:
 * {@code rank} (4), {@code alpha} (the rank: factor 1), {@code targets} (module path endings; default the attention
 * projections {@code to_q}, {@code to_k}, {@code to_v}, the shared {@code to_kv}, {@code to_out.0} and the
 * feed-forward {@code ff.net.0.proj}, {@code ff.net.2}; convs such as {@code conv1}, {@code depthwise},
 * {@code pointwise} or {@code conv_out} may be added).
 */
public final class LoraTraining {
    public static final String EXPORT_FILE = "lora.safetensors";
    /** The config {@link #writeConfig} writes into the output folder. */
    public static final String FLAGS_CONFIG_FILE = "lora_config.json";
    static final List<String> DEFAULT_TARGETS = List.of("to_q", "to_k", "to_v", "to_kv", "to_out.0", "ff.net.0.proj",
            "ff.net.2");
    private static final List<String> LORA_KEYS = List.of("rank", "alpha", "targets", "high_noise_share",
            "high_noise_from", "x0_weight_cap");

    private LoraTraining() {}

    /** The lora section, checked. */
    record Settings(int rank, float alpha, List<String> targets, NoiseEmphasis emphasis) {}

    static Settings settings(JsonConfig c) {
        FromPipeline.rejectUnknown(c, LORA_KEYS);
        int rank = c.getInt("rank", 4);
        if (rank < 1) {
            throw c.error("rank", "must be at least 1, got " + rank);
        }
        double alpha = c.getDouble("alpha", rank);
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw c.error("alpha", "must be a number > 0, got " + alpha);
        }
        List<String> targets = c.getStrings("targets", DEFAULT_TARGETS);
        if (targets.isEmpty()) {
            throw c.error("targets", "must name at least one layer kind");
        }
        NoiseEmphasis emphasis;
        try {
            emphasis = new NoiseEmphasis(c.getDouble("high_noise_share", 0), c.getInt("high_noise_from", 800),
                    c.getDouble("x0_weight_cap", 1));
        } catch (IllegalArgumentException e) {
            throw c.error("high_noise_share", e.getMessage());
        }
        return new Settings(rank, (float) alpha, targets, emphasis);
    }

    /**
     * The layers of {@code targets} whose paths end with one of the kinds; each kind must match a layer unless it is
     * in {@code optional}.
     */
    static List<String> select(LoraTargets targets, List<String> kinds, List<String> optional, JsonConfig c) {
        List<String> paths = new ArrayList<>();
        List<String> unused = new ArrayList<>(kinds);
        for (String path : targets.all().keySet()) {
            for (String kind : kinds) {
                if (path.equals(kind) || path.endsWith("." + kind)) {
                    paths.add(path);
                    unused.remove(kind);
                    break;
                }
            }
        }
        unused.removeAll(optional);
        if (!unused.isEmpty() || paths.isEmpty()) {
            throw c.error("targets", "no layer of this UNet ends with " + String.join(", ", unused.isEmpty() ? kinds
                    : unused) + " (layers are named like " + String.join(", ", targets.all().keySet().stream()
                    .filter(p -> p.contains("transformer_blocks.0.")).limit(4).toList()) + ")");
        }
        return paths;
    }

    public static Trainer.Result run(Path configFile, Path outDir, boolean resume, PrintStream out) {
        FromPipeline p = FromPipeline.read(configFile, "base");
        JsonConfig section = p.section("lora");
        Settings settings = settings(section);
        try (NDManager weights = NDManager.newBaseManager()) {
            LatentBatchSource batches = p.batches(outDir, weights, out);
            TextConditioning text = p.text(weights);
            UNet2DConditionModel unet = p.loadUnet(weights);
            LoraTargets targets = LoraTargets.of(LoraPart.UNET, unet);
            // the defaults name both kinds of key/value projection; a model has one of them
            List<String> optional = section.has("targets") ? List.of() : List.of("to_k", "to_v", "to_kv");
            LoraNetwork network = new LoraNetwork(targets, select(targets, settings.targets(), optional, section),
                    settings.rank(), settings.alpha());
            network.initialize(weights, p.trainer.seed());
            DiffusionLoss diffusion = new DiffusionLoss(unet, text.textEncoder(), text.tokenizer(),
                    NoiseSchedule.of(p.schedule), p.schedule.predictionType());
            LossFunction<LatentBatch> loss = (batch, ctx) -> loss(network, unet, diffusion, settings.emphasis(),
                    batch, ctx);
            out.printf(Locale.ROOT, "LoRA rank %d, alpha %s on %d layers of %s (%,d parameters; the base's %,d"
                    + " stay frozen); %d training examples%n", settings.rank(), settings.alpha(),
                    network.layerCount(), p.folder.root().toAbsolutePath().normalize(), network.parameterCount(),
                    unet.parameterCount(),
                    batches.size());
            Trainer.Result result;
            try (Trainer<LatentBatch> t = Trainer.builder(network, loss, batches, p.trainer, outDir)
                    .progress(out, false).build()) {
                result = t.run(resume);
                if (!result.stopped()) {
                    Path file = outDir.resolve(EXPORT_FILE);
                    Map<String, NDArray> values = new LinkedHashMap<>();
                    Map<String, NDArray> ema = t.ema() != null ? t.ema().shadows() : Map.of();
                    network.namedParameters().forEach((k, param) -> values.put(k, ema.getOrDefault(k, param.get())));
                    Path baseDir = p.folder.root().toAbsolutePath().normalize();
                    network.export(file, values, DataType.FLOAT16, Map.of("ss_base_model_version", "mdx",
                            "mdx_base", baseDir.toString(), "mdx_targets", String.join(",", settings.targets()),
                            "ss_steps", Long.toString(result.step())));
                    out.printf(Locale.ROOT, "exported %s (%.2f MB); use it with: mdx generate -m %s --lora %s%n",
                            file, size(file) / 1e6, baseDir, file);
                }
            }
            return result;
        }
    }

    /** The denoising loss with the LoRA patched into the frozen UNet for this forward pass. */
    static NDArray loss(LoraNetwork network, UNet2DConditionModel unet, DiffusionLoss diffusion,
            NoiseEmphasis emphasis, LatentBatch batch, StepContext ctx) {
        try (LoraNetwork.Patch patch = network.patch(unet, ctx.scope())) {
            return diffusion.denoise(batch, ctx, 0, emphasis).loss();
        }
    }

    /**
     * The config of {@code mdx train lora --base MODEL --data DIR --rank R}: {@code template} (a config file, or null
     * for the defaults: 1000 steps of batch 8 at learning rate 1e-4) with those values set, written with absolute
     * paths to {@code OUT/lora_config.json}.
     *
     * @param base, data, rank null to keep the template's
     */
    public static Path writeConfig(Path template, Path base, Path data, Integer rank, Path outDir) {
        ObjectNode doc;
        Path from;
        if (template != null) {
            doc = JsonConfig.read(template).copyRoot();
            from = template.toAbsolutePath().getParent();
        } else {
            doc = (ObjectNode) JsonConfig.parse("defaults", DEFAULT_CONFIG).root();
            from = Path.of("").toAbsolutePath();
        }
        if (base != null) {
            doc.put("base", base.toAbsolutePath().normalize().toString());
        } else if (doc.hasNonNull("base")) {
            doc.put("base", from.resolve(doc.get("base").asText()).normalize().toString());
        } else {
            throw new ModelFormatException("no base model: give --base MODEL (or \"base\" in the config)");
        }
        ObjectNode dataSection = doc.with("data");
        if (data != null) {
            dataSection.put("dataset", data.toAbsolutePath().normalize().toString());
        } else if (dataSection.hasNonNull("dataset")) {
            dataSection.put("dataset", from.resolve(dataSection.get("dataset").asText()).normalize().toString());
        } else {
            throw new ModelFormatException("no data set: give --data DIR (or \"data\": {\"dataset\": ...} in the"
                    + " config)");
        }
        if (rank != null) {
            if (rank < 1) {
                throw new ModelFormatException("--rank must be at least 1, got " + rank);
            }
            doc.with("lora").put("rank", rank);
        }
        Path file = outDir.resolve(FLAGS_CONFIG_FILE);
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + outDir + ": " + e.getMessage(), e);
        }
        AtomicFiles.writeBytes(file, (JsonConfig.pretty(doc) + "\n").getBytes(StandardCharsets.UTF_8));
        return file;
    }

    private static final String DEFAULT_CONFIG = """
            {"trainer": {"max_train_steps": 1000, "train_batch_size": 8, "learning_rate": 1e-4,
                         "lr_warmup_steps": 50, "checkpointing_steps": 250, "use_ema": false, "log_every": 50},
             "data": {"split": "train", "caption_dropout": 0.1},
             "lora": {"rank": 4}}""";

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }
}
