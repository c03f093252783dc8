package dev.mdx.io;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A diffusers-layout pipeline folder: {@code model_index.json} and one subfolder per component. Opening checks
 * that every file the text-to-image pipeline needs is present and names all that are missing at once.
 */
public final class ModelFolder {
    public static final String UNET = "unet";
    public static final String VAE = "vae";
    public static final String TEXT_ENCODER = "text_encoder";
    public static final String TOKENIZER = "tokenizer";
    public static final String SCHEDULER = "scheduler";

    private final Path root;

    private ModelFolder(Path root) {
        this.root = root;
    }

    public static ModelFolder open(Path root) {
        if (!Files.exists(root)) {
            throw new ModelFormatException("model folder " + root + " does not exist");
        }
        if (!Files.isDirectory(root)) {
            throw new ModelFormatException(root + " is not a folder (expected a diffusers pipeline folder)");
        }
        ModelFolder folder = new ModelFolder(root);
        List<String> missing = new ArrayList<>();
        for (Path required : List.of(
                folder.unetConfig(), folder.unetWeights(),
                folder.vaeConfig(), folder.vaeWeights(),
                folder.textEncoderConfig(), folder.textEncoderWeights(),
                folder.vocab(), folder.merges(),
                folder.schedulerConfig())) {
            if (!Files.isRegularFile(required)) {
                missing.add(root.relativize(required).toString());
            }
        }
        if (!missing.isEmpty()) {
            throw new ModelFormatException(root + " is not a complete diffusers pipeline folder; missing: "
                    + String.join(", ", missing));
        }
        return folder;
    }

    public Path root() {
        return root;
    }

    public Path unetConfig() {
        return root.resolve(UNET).resolve("config.json");
    }

    public Path unetWeights() {
        return weights(UNET, "diffusion_pytorch_model");
    }

    public Path vaeConfig() {
        return root.resolve(VAE).resolve("config.json");
    }

    public Path vaeWeights() {
        return weights(VAE, "diffusion_pytorch_model");
    }

    public Path textEncoderConfig() {
        return root.resolve(TEXT_ENCODER).resolve("config.json");
    }

    public Path textEncoderWeights() {
        return weights(TEXT_ENCODER, "model");
    }

    public Path vocab() {
        return root.resolve(TOKENIZER).resolve("vocab.json");
    }

    public Path merges() {
        return root.resolve(TOKENIZER).resolve("merges.txt");
    }

    public Path tokenizerDir() {
        return root.resolve(TOKENIZER);
    }

    public Path schedulerConfig() {
        return root.resolve(SCHEDULER).resolve("scheduler_config.json");
    }

    /** The fp32 weights file, or the fp16 variant diffusers writes as {@code name.fp16.safetensors}. */
    private Path weights(String component, String name) {
        Path dir = root.resolve(component);
        Path plain = dir.resolve(name + ".safetensors");
        Path fp16 = dir.resolve(name + ".fp16.safetensors");
        return Files.isRegularFile(plain) || !Files.isRegularFile(fp16) ? plain : fp16;
    }
}
