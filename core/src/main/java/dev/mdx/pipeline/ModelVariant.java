package dev.mdx.pipeline;

import ai.djl.ndarray.NDManager;
import dev.mdx.io.ModelFolder;
import dev.mdx.io.StateDicts;
import dev.mdx.memory.MemoryEstimator;
import dev.mdx.text.ClipTextModel;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.unet.GuidedDenoiser;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.vae.AutoencoderKL;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The base model or one of its students: its folder, configuration and tokenizer, and its weights, loaded on first
 * use so that a request is checked before gigabytes load and a pipeline holding several students pays only for
 * those it runs. The frozen parts (text encoder, VAE) are shared with every variant that reads the same folder.
 */
final class ModelVariant {
    private final ModelFolder folder;
    private final PipelineConfig config;
    private final Students.Student student;
    private final ClipTokenizer tokenizer;
    private final int textLength;
    private final SharedWeights shared;
    private final MemoryEstimator memory;
    private volatile GuidedDenoiser denoiser;

    ModelVariant(ModelFolder folder, PipelineConfig config, Students.Student student, ClipTokenizer tokenizer,
            SharedWeights shared) {
        this.folder = folder;
        this.config = config;
        this.student = student;
        this.tokenizer = tokenizer;
        this.shared = shared;
        config.textEncoder().requireTokenizer(tokenizer);
        this.memory = new MemoryEstimator(config.unet(), config.vae(), config.textEncoder());
        this.textLength = Math.min(tokenizer.maxLength(), config.textEncoder().maxPositionEmbeddings());
    }

    ModelFolder folder() {
        return folder;
    }

    PipelineConfig config() {
        return config;
    }

    /** The student, or null for the base model. */
    Students.Student student() {
        return student;
    }

    ClipTokenizer tokenizer() {
        return tokenizer;
    }

    /** Token ids per prompt the text encoder reads, with start and end tokens. */
    int textLength() {
        return textLength;
    }

    /** The peak memory of this variant's requests. */
    MemoryEstimator memory() {
        return memory;
    }

    ClipTextModel textEncoder() {
        return shared.textEncoder(this);
    }

    AutoencoderKL vae() {
        return shared.vae(this);
    }

    /** The UNet, loading its weights on the first call. */
    GuidedDenoiser denoiser() {
        GuidedDenoiser d = denoiser;
        if (d == null) {
            synchronized (this) {
                d = denoiser;
                if (d == null) {
                    d = new GuidedDenoiser(shared.unet(this));
                    denoiser = d;
                }
            }
        }
        return d;
    }

    /** Loads every weight this variant needs now. */
    void loadAll() {
        textEncoder();
        vae();
        denoiser();
    }

    /** The weights of a pipeline's variants, in one manager, frozen parts by folder so variants share them. */
    static final class SharedWeights {
        private final NDManager weights;
        private final Map<Path, ClipTextModel> textEncoders = new HashMap<>();
        private final Map<Path, AutoencoderKL> vaes = new HashMap<>();

        SharedWeights(NDManager weights) {
            this.weights = weights;
        }

        synchronized ClipTextModel textEncoder(ModelVariant v) {
            return textEncoders.computeIfAbsent(key(v.folder.textEncoderDir()), d -> load(manager -> {
                ClipTextModel m = new ClipTextModel(v.config.textEncoder());
                m.loadWeights(v.folder.textEncoderWeights(), manager);
                return m;
            }));
        }

        synchronized AutoencoderKL vae(ModelVariant v) {
            return vaes.computeIfAbsent(key(v.folder.vaeDir()), d -> load(manager -> {
                AutoencoderKL m = new AutoencoderKL(v.config.vae());
                m.loadWeights(v.folder.vaeWeights(), manager);
                return m;
            }));
        }

        UNet2DConditionModel unet(ModelVariant v) {
            return load(manager -> {
                UNet2DConditionModel unet = UNet2DConditionModel.fromConfig(v.config.unet());
                StateDicts.load(unet, v.folder.unetWeights(), manager);
                return unet;
            });
        }

        /**
         * Loads into a child scope first, so a file that fails halfway leaves nothing behind, then hands the arrays
         * to the weights' manager.
         */
        private <T> T load(java.util.function.Function<NDManager, T> loader) {
            try (NDManager loading = weights.newSubManager()) {
                T model = loader.apply(loading);
                loading.getManagedArrays().forEach(a -> a.attach(weights));
                return model;
            }
        }

        private static Path key(Path dir) {
            return dir.toAbsolutePath().normalize();
        }
    }
}
