package dev.mdx.testing;

import dev.mdx.io.SafeTensorsWriter;

import dev.mdx.io.SafeTensorsFile;

import ai.djl.ndarray.NDArray;

import ai.djl.ndarray.NDManager;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Module;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.unet.UNetConfig;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.VaeConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Model folders for pipeline and CLI tests: the golden pipeline's unet/vae/text_encoder/scheduler linked into a
 * temporary folder with a tokenizer from elsewhere (the shared CLIP vocabulary, or a tiny one written here when only
 * token counts matter); and a micro pipeline with random weights, a few times cheaper per step than the golden one,
 * for tests that run hundreds of generations.
 */
public final class TestModels {
    /** CLIP's ids of its start and end tokens, below the golden text encoder's vocab_size. */
    public static final int BOS_ID = 49406;
    public static final int EOS_ID = 49407;

    private TestModels() {}

    /**
     * A CLIP-format tokenizer folder with the start/end tokens at CLIP's ids, the 26 lower-case letters (alone and
     * word-final) and no merges: every letter of a word is one token, anything else is the unknown (end) token.
     */
    public static Path tinyTokenizer(Path dir) {
        StringBuilder vocab = new StringBuilder("{\"<|startoftext|>\": " + BOS_ID + ", \"<|endoftext|>\": " + EOS_ID);
        for (char c = 'a'; c <= 'z'; c++) {
            vocab.append(", \"").append(c).append("\": ").append(100 + c - 'a');
            vocab.append(", \"").append(c).append("</w>\": ").append(200 + c - 'a');
        }
        vocab.append('}');
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("vocab.json"), vocab, StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    /**
     * A pipeline folder in {@code dir} whose components are links to the golden ones and whose tokenizer/ links the
     * files of {@code tokenizerDir} (its vocab.json and merges.txt, with the golden tokenizer configs).
     */
    public static Path goldenPipeline(Path dir, Path tokenizerDir) {
        Path golden = Golden.root().toAbsolutePath();
        try {
            Files.createDirectories(dir);
            for (String entry : List.of("model_index.json", "unet", "vae", "text_encoder", "scheduler")) {
                linkTree(golden.resolve(entry), dir.resolve(entry));
            }
            Path tok = Files.createDirectories(dir.resolve("tokenizer"));
            for (String file : List.of("tokenizer_config.json", "special_tokens_map.json")) {
                linkTree(golden.resolve("tokenizer").resolve(file), tok.resolve(file));
            }
            for (String file : List.of("vocab.json", "merges.txt")) {
                linkTree(tokenizerDir.toAbsolutePath().resolve(file), tok.resolve(file));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    /**
     * Recreates a file or folder tree with hard links (copies across file systems): no bytes are duplicated, and
     * deleting the result, as JUnit does with temporary folders, leaves the source alone.
     */
    public static void linkTree(Path source, Path target) throws IOException {
        try (Stream<Path> walk = Files.walk(source)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path t = target.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                    continue;
                }
                try {
                    Files.createLink(t, p.toRealPath());
                } catch (IOException | UnsupportedOperationException e) {
                    Files.copy(p, t);
                }
            }
        }
    }

    /**
     * A micro MobileDiffusion UNet config (ReLU attention, shared key/value projection, SwiGLU, separable convs, a
     * deep mid stack), for tests of those layers.
     */
    public static final String MICRO_MOBILE_DIFFUSION_UNET = """
            {"_class_name": "UNet2DConditionModel", "sample_size": 8, "in_channels": 4, "out_channels": 4,
             "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
             "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
             "block_out_channels": [8, 16], "layers_per_block": 1, "norm_num_groups": 4,
             "cross_attention_dim": 12, "attention_head_dim": [2, 2], "use_linear_projection": true,
             "attention_kind": "relu", "shared_kv_projection": true, "ff_activation": "swiglu", "ff_mult": 3,
             "separable_conv_levels": [false, true], "self_attention_levels": [true, false],
             "mid_block_self_attention": true,
             "mid_block_transformer_layers": 2}""";

    /** The micro pipeline's image size (UNet sample_size 8 x VAE factor 2). */
    public static final int MICRO_SIZE = 16;
    /** The micro tokenizer's and text encoder's sequence length. */
    public static final int MICRO_TEXT_LENGTH = 16;

    private static final String MICRO_UNET = "{\"_class_name\": \"UNet2DConditionModel\", \"sample_size\": 8,"
            + " \"in_channels\": 4, \"out_channels\": 4, \"down_block_types\": [\"CrossAttnDownBlock2D\"],"
            + " \"up_block_types\": [\"CrossAttnUpBlock2D\"], \"block_out_channels\": [8], \"layers_per_block\": 1,"
            + " \"norm_num_groups\": 4, \"cross_attention_dim\": 16, \"attention_head_dim\": 2}";
    private static final String MICRO_VAE = "{\"_class_name\": \"AutoencoderKL\", \"in_channels\": 3,"
            + " \"out_channels\": 3, \"latent_channels\": 4, \"block_out_channels\": [8, 8], \"layers_per_block\": 1,"
            + " \"norm_num_groups\": 4, \"sample_size\": 16, \"scaling_factor\": 0.18215}";
    private static final String MICRO_TEXT = "{\"architectures\": [\"CLIPTextModel\"], \"vocab_size\": 49408,"
            + " \"hidden_size\": 16, \"intermediate_size\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
            + " \"max_position_embeddings\": 16, \"hidden_act\": \"quick_gelu\", \"projection_dim\": 16,"
            + " \"bos_token_id\": 49406, \"eos_token_id\": 49407, \"pad_token_id\": 49407}";

    private static final String MICRO_INDEX = """
            {"_class_name": "StableDiffusionPipeline", "feature_extractor": [null, null],
             "requires_safety_checker": false, "safety_checker": [null, null],
             "scheduler": ["diffusers", "DDIMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
             "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
             "vae": ["diffusers", "AutoencoderKL"]}""";
    /** Stable Diffusion 1.5's scheduler, as DDIMScheduler.from_config writes it. */
    private static final String SD15_DDIM_SCHEDULER = """
            {"_class_name": "DDIMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
             "beta_start": 0.00085, "clip_sample": false, "clip_sample_range": 1.0, "dynamic_thresholding_ratio": 0.995,
             "num_train_timesteps": 1000, "prediction_type": "epsilon", "rescale_betas_zero_snr": false,
             "sample_max_value": 1.0, "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1,
             "thresholding": false, "timestep_spacing": "leading", "trained_betas": null}""";

    /**
     * A complete pipeline folder with random weights (seeded): a one-level UNet with cross-attention, a two-level
     * VAE (factor 2), a one-layer CLIP text encoder of length 16, the tiny tokenizer and Stable Diffusion 1.5's DDIM
     * scheduler.
     */
    public static Path microPipeline(Path dir) {
        return microPipeline(dir, MICRO_UNET);
    }

    /** The guidance width of {@link #microGuidanceInputPipeline}. */
    public static final int MICRO_TIME_COND_PROJ_DIM = 8;

    /**
     * The micro pipeline with a UNet that takes the guidance scale as an input ({@code time_cond_proj_dim}
     * {@value #MICRO_TIME_COND_PROJ_DIM}, a random {@code cond_proj}), as a w-conditioned distilled student.
     */
    public static Path microGuidanceInputPipeline(Path dir) {
        return microPipeline(dir, MICRO_UNET.replace("\"sample_size\"", "\"time_cond_proj_dim\": "
                + MICRO_TIME_COND_PROJ_DIM + ", \"sample_size\""));
    }

    /** The micro pipeline with a diffusers inpainting UNet: latents, mask and masked-image latents, 9 channels in. */
    public static Path microInpaintingPipeline(Path dir) {
        return microPipeline(dir, MICRO_UNET.replace("\"in_channels\": 4", "\"in_channels\": 9"));
    }

    private static Path microPipeline(Path dir, String unetConfig) {
        try (NDManager manager = NDManager.newBaseManager()) {
            Files.createDirectories(dir);
            // written here, not copied from the golden set: the micro tests rely on a DDIM folder of 1000 steps
            Files.writeString(dir.resolve("model_index.json"), MICRO_INDEX);
            Files.createDirectories(dir.resolve("scheduler"));
            Files.writeString(dir.resolve("scheduler/scheduler_config.json"), SD15_DDIM_SCHEDULER);
            save(dir.resolve("unet"), "config.json", unetConfig, "diffusion_pytorch_model.safetensors",
                    UNet2DConditionModel.fromConfig(UNetConfig.parse("micro unet", unetConfig)), manager, 11);
            save(dir.resolve("vae"), "config.json", MICRO_VAE, "diffusion_pytorch_model.safetensors",
                    new AutoencoderKL(VaeConfig.from(JsonConfig.parse("micro vae", MICRO_VAE))), manager, 12);
            save(dir.resolve("text_encoder"), "config.json", MICRO_TEXT, "model.safetensors",
                    new ClipTextModel(ClipTextConfig.from(JsonConfig.parse("micro text", MICRO_TEXT))), manager, 13);
            Path tok = tinyTokenizer(dir.resolve("tokenizer"));
            Files.writeString(tok.resolve("tokenizer_config.json"), "{\"model_max_length\": " + MICRO_TEXT_LENGTH + "}");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    private static void save(Path componentDir, String configName, String config, String weightsName, Module module,
            NDManager manager, long seed) throws IOException {
        Files.createDirectories(componentDir);
        Files.writeString(componentDir.resolve(configName), config);
        StateDicts.initRandom(module, manager, seed);
        StateDicts.save(module, componentDir.resolve(weightsName), Map.of("format", "pt"));
    }

    /** Rewrites one tensor of a safetensors weights file with {@code value} everywhere (NaN to break a model). */
    public static void fillTensor(Path weights, String key, float value) {
        try (NDManager manager = NDManager.newBaseManager()) {
            Map<String, NDArray> tensors = new java.util.LinkedHashMap<>();
            try (SafeTensorsFile st = SafeTensorsFile.open(weights)) {
                if (!st.tensors().containsKey(key)) {
                    throw new IllegalArgumentException(weights + " has no tensor " + key);
                }
                for (String name : st.tensors().keySet()) {
                    NDArray t = st.load(name, manager);
                    tensors.put(name, name.equals(key) ? manager.full(t.getShape(), value) : t);
                }
            }
            SafeTensorsWriter.write(weights, tensors, Map.of("format", "pt"));
        }
    }
}
