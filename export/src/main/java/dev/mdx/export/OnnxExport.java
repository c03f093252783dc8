package dev.mdx.export;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFolder;
import dev.mdx.pipeline.GenerationDefaults;
import dev.mdx.pipeline.PipelineConfig;
import dev.mdx.prompt.PromptEncoder;
import dev.mdx.sampling.SamplingPlan;
import dev.mdx.schedule.NoiseSchedule;
import dev.mdx.schedule.ScheduleConfig;
import dev.mdx.text.ClipTextModel;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.AutoencoderKL;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Exports a pipeline folder (a bundled model, a student folder or any diffusers folder mdx runs) to an ONNX folder:
 * {@value #TEXT_ENCODER_FILE}, {@value #UNET_FILE}, {@value #VAE_DECODER_FILE}, the tokenizer files under
 * {@code tokenizer/} and {@value #MODEL_JSON}, what a runtime needs besides the graphs (docs/EXPORT.md). Every file is
 * written atomically; model.json last, so a folder with it is complete.
 */
public final class OnnxExport {
    public static final String TEXT_ENCODER_FILE = "text_encoder.onnx";
    public static final String UNET_FILE = "unet.onnx";
    public static final String VAE_DECODER_FILE = "vae_decoder.onnx";
    public static final String MODEL_JSON = "model.json";
    public static final String FORMAT = "mdx-onnx";
    public static final int FORMAT_VERSION = 1;
    private static final List<String> TOKENIZER_FILES = List.of("vocab.json", "merges.txt", "tokenizer_config.json",
            "special_tokens_map.json");

    private OnnxExport() {}

    /** What was written: the folder and each graph's size in bytes. */
    public record Result(Path dir, long textEncoderBytes, long unetBytes, long vaeDecoderBytes) {}

    public static Result export(Path modelDir, Path outDir, OnnxPrecision precision) {
        ModelFolder folder = ModelFolder.open(modelDir);
        PipelineConfig config = PipelineConfig.read(folder);
        AtomicFiles.checkWritable(outDir.resolve(MODEL_JSON));
        long text;
        long unet;
        long vae;
        try (NDManager m = NDManager.newBaseManager()) {
            text = write(outDir.resolve(TEXT_ENCODER_FILE),
                    OnnxGraphs.textEncoder(ClipTextModel.load(folder.textEncoderDir(), m), precision));
        }
        try (NDManager m = NDManager.newBaseManager()) {
            unet = write(outDir.resolve(UNET_FILE),
                    OnnxGraphs.unet(UNet2DConditionModel.load(folder.unetDir(), m), precision));
        }
        try (NDManager m = NDManager.newBaseManager()) {
            vae = write(outDir.resolve(VAE_DECODER_FILE),
                    OnnxGraphs.vaeDecoder(AutoencoderKL.load(folder.vaeDir(), m), precision));
        }
        for (String name : TOKENIZER_FILES) {
            Path source = folder.tokenizerDir().resolve(name);
            if (Files.isRegularFile(source)) {
                copy(source, outDir.resolve("tokenizer").resolve(name));
            }
        }
        byte[] json = JsonConfig.pretty(describe(folder, config, precision)).getBytes(StandardCharsets.UTF_8);
        AtomicFiles.writeBytes(outDir.resolve(MODEL_JSON), json);
        return new Result(outDir, text, unet, vae);
    }

    /** The runtime description: graphs and their tensors, tokenizer, scheduler, sizes, defaults, guidance. */
    static ObjectNode describe(ModelFolder folder, PipelineConfig config, OnnxPrecision precision) {
        ObjectNode root = JsonConfig.MAPPER.createObjectNode();
        root.put("format", FORMAT).put("format_version", FORMAT_VERSION).put("producer", "mdx")
                .put("model", folder.name()).put("opset", OnnxGraph.OPSET).put("weights", precision.cliName());
        UNetConfig unet = config.unet();
        int factor = config.vaeScaleFactor();
        GenerationDefaults defaults = config.defaults();
        int latentH = defaults.height() / factor;
        int latentW = defaults.width() / factor;
        ClipTokenizer tokenizer = ClipTokenizer.load(folder.tokenizerDir());
        int length = tokenizer.maxLength();

        ObjectNode graphs = root.putObject("graphs");
        ObjectNode te = graph(graphs, "text_encoder", TEXT_ENCODER_FILE);
        tensor(te.putObject("inputs"), TextEncoderExporter.INPUT_IDS, "int64", "batch", length);
        tensor(te.putObject("outputs"), TextEncoderExporter.OUTPUT, "float32", "batch", length,
                config.textEncoder().hiddenSize());
        ObjectNode u = graph(graphs, "unet", UNET_FILE);
        ObjectNode ui = u.putObject("inputs");
        tensor(ui, UNetExporter.SAMPLE, "float32", "batch", unet.inChannels(), latentH, latentW);
        tensor(ui, UNetExporter.TIMESTEP, "float32", "batch");
        tensor(ui, UNetExporter.CONTEXT, "float32", "batch", length, unet.crossAttentionDim().get(0));
        if (unet.hasTimeCondProj()) {
            tensor(ui, UNetExporter.GUIDANCE, "float32", "batch");
        }
        tensor(u.putObject("outputs"), UNetExporter.OUTPUT, "float32", "batch", unet.outChannels(), latentH, latentW);
        ObjectNode v = graph(graphs, "vae_decoder", VAE_DECODER_FILE);
        tensor(v.putObject("inputs"), VaeDecoderExporter.LATENT, "float32", "batch", config.vae().latentChannels(),
                latentH, latentW);
        tensor(v.putObject("outputs"), VaeDecoderExporter.OUTPUT, "float32", "batch", 3, defaults.height(),
                defaults.width());

        ObjectNode tok = root.putObject("tokenizer");
        tok.put("vocab", "tokenizer/vocab.json").put("merges", "tokenizer/merges.txt");
        tok.put("model_max_length", length).put("bos_token_id", tokenizer.bosId())
                .put("eos_token_id", tokenizer.eosId()).put("pad_token_id", tokenizer.padId());
        // A1111's clip skip, as mdx's --clip-skip: 1 = the last layer, which the graph outputs
        root.putObject("text_encoder").put("clip_skip", PromptEncoder.DEFAULT_CLIP_SKIP)
                .put("hidden_size", config.textEncoder().hiddenSize());

        ObjectNode latent = root.putObject("latent");
        latent.put("channels", config.latentChannels()).put("height", latentH).put("width", latentW);
        ObjectNode vae = root.putObject("vae");
        vae.put("scaling_factor", config.vae().scalingFactor()).put("scale_factor", factor);
        config.vae().shiftFactor().ifPresent(s -> vae.put("shift_factor", s));
        // what ImageRun and Images do around the decoder graph
        vae.put("decode_input", config.vae().shiftFactor().isPresent()
                ? "latent_sample = latents / scaling_factor + shift_factor" : "latent_sample = latents / scaling_factor");
        vae.put("postprocess", "pixel = round(clamp(sample / 2 + 0.5, 0, 1) * 255), NCHW -> HWC RGB");
        root.putObject("image").put("height", defaults.height()).put("width", defaults.width());

        ScheduleConfig schedule = config.schedule();
        ObjectNode sched = root.putObject("scheduler");
        sched.put("class", config.schedulerClass()).put("prediction_type", schedule.predictionType().jsonName())
                .put("num_train_timesteps", schedule.numTrainTimesteps());
        sched.set("config", JsonConfig.read(folder.schedulerConfig()).root());
        ArrayNode alphas = sched.putArray("alphas_cumprod");
        for (float a : NoiseSchedule.of(schedule).alphasCumprod()) {
            alphas.add(a);
        }

        ObjectNode def = root.putObject("defaults");
        def.put("sampler", defaults.sampler().cliName()).put("steps", defaults.steps())
                .put("cfg_scale", defaults.cfgScale());
        SamplingPlan plan = config.plan(config.sampler(defaults.sampler(), 0), defaults.steps());
        ArrayNode timesteps = def.putArray("timesteps");
        for (float t : plan.timesteps()) {
            timesteps.add(t);
        }
        def.put("init_noise_sigma", plan.initNoiseSigma());

        ObjectNode guidance = root.putObject("guidance");
        guidance.put("kind", unet.hasTimeCondProj() ? "embedded" : "classifier_free")
                .put("needs_cfg", folder.index().needsCfg().orElse(defaults.cfgScale() > 1));
        folder.index().studentSteps().ifPresent(s -> root.putObject("student").put("steps", s)
                .put("one_step_timestep", schedule.numTrainTimesteps() - 1));
        return root;
    }

    private static ObjectNode graph(ObjectNode graphs, String name, String file) {
        return graphs.putObject(name).put("file", file);
    }

    /** One tensor's entry: dtype and shape (a name for a free dimension, a number for the model's default size). */
    private static void tensor(ObjectNode parent, String name, String dtype, Object... shape) {
        ObjectNode t = parent.putObject(name);
        t.put("dtype", dtype);
        ArrayNode dims = t.putArray("shape");
        for (Object d : shape) {
            if (d instanceof String s) {
                dims.add(s);
            } else {
                dims.add(((Number) d).longValue());
            }
        }
    }

    private static long write(Path file, byte[] bytes) {
        AtomicFiles.write(file, ch -> {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        });
        return bytes.length;
    }

    private static void copy(Path source, Path target) {
        try {
            AtomicFiles.writeBytes(target, Files.readAllBytes(source));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + source, e);
        }
    }
}
