package dev.mdx.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A diffusers-layout pipeline folder: {@code model_index.json} and one subfolder per component. Opening checks
 * that every file the text-to-image pipeline needs is present and names all that are missing at once. The
 * tokenizer may come from another folder (a pipeline saved without its vocabulary, composed with a shared one).
 *
 * <p>An mdx extension: {@code model_index.json} may map components to other folders, relative to the pipeline
 * folder, under {@code "_mdx_component_dirs"} (e.g. {@code {"vae": "../../vae"}}). A distilled student shipped
 * beside its base model holds only its own UNet and scheduler and reuses the base's frozen parts this way.
 */
public final class ModelFolder {
    public static final String UNET = "unet";
    public static final String VAE = "vae";
    public static final String TEXT_ENCODER = "text_encoder";
    public static final String TOKENIZER = "tokenizer";
    public static final String SCHEDULER = "scheduler";

    /** The {@code model_index.json} key mapping component names to folders relative to the pipeline folder. */
    public static final String COMPONENT_DIRS_KEY = "_mdx_component_dirs";

    private final Path root;
    private final Path tokenizerDir;
    private final Map<String, Path> componentDirs;

    private ModelFolder(Path root, Path tokenizerDir, Map<String, Path> componentDirs) {
        this.root = root;
        this.tokenizerDir = tokenizerDir;
        this.componentDirs = componentDirs;
    }

    public static ModelFolder open(Path root) {
        return open(root, null);
    }

    /**
     * @param tokenizerDir a folder with {@code vocab.json} and {@code merges.txt} (and optionally the tokenizer
     *     configs) used instead of {@code root/tokenizer}; null for the pipeline's own
     */
    public static ModelFolder open(Path root, Path tokenizerDir) {
        if (!Files.exists(root)) {
            throw new ModelFormatException("model folder " + root + " does not exist");
        }
        if (!Files.isDirectory(root)) {
            throw new ModelFormatException(root + " is not a folder (expected a diffusers pipeline folder)");
        }
        if (tokenizerDir != null && !Files.isDirectory(tokenizerDir)) {
            throw new ModelFormatException("tokenizer folder " + tokenizerDir + " does not exist");
        }
        Map<String, Path> dirs = componentDirs(root);
        ModelFolder folder = new ModelFolder(root, tokenizerDir != null ? tokenizerDir : dirs.get(TOKENIZER), dirs);
        List<String> missing = new ArrayList<>();
        for (Path required : List.of(
                folder.unetConfig(), folder.unetWeights(),
                folder.vaeConfig(), folder.vaeWeights(),
                folder.textEncoderConfig(), folder.textEncoderWeights(),
                folder.vocab(), folder.merges(),
                folder.schedulerConfig())) {
            if (!Files.isRegularFile(required)) {
                missing.add(required.startsWith(root) ? root.relativize(required).toString() : required.toString());
            }
        }
        if (!missing.isEmpty()) {
            throw new ModelFormatException(root + " is not a complete diffusers pipeline folder; missing: "
                    + String.join(", ", missing));
        }
        return folder;
    }

    private static Map<String, Path> componentDirs(Path root) {
        Map<String, Path> dirs = new HashMap<>();
        JsonNode mapped = Files.isRegularFile(root.resolve("model_index.json"))
                ? JsonConfig.read(root.resolve("model_index.json")).root().path(COMPONENT_DIRS_KEY)
                : null;
        for (String component : List.of(UNET, VAE, TEXT_ENCODER, TOKENIZER, SCHEDULER)) {
            JsonNode rel = mapped == null ? null : mapped.get(component);
            dirs.put(component, rel != null && rel.isTextual()
                    ? root.resolve(rel.asText()).normalize()
                    : root.resolve(component));
        }
        return dirs;
    }

    public Path root() {
        return root;
    }

    public Path unetConfig() {
        return componentDirs.get(UNET).resolve("config.json");
    }

    public Path unetWeights() {
        return weights(UNET, "diffusion_pytorch_model");
    }

    public Path vaeConfig() {
        return componentDirs.get(VAE).resolve("config.json");
    }

    public Path vaeWeights() {
        return weights(VAE, "diffusion_pytorch_model");
    }

    public Path textEncoderConfig() {
        return componentDirs.get(TEXT_ENCODER).resolve("config.json");
    }

    public Path textEncoderWeights() {
        return weights(TEXT_ENCODER, "model");
    }

    public Path vocab() {
        return tokenizerDir.resolve("vocab.json");
    }

    public Path merges() {
        return tokenizerDir.resolve("merges.txt");
    }

    public Path tokenizerDir() {
        return tokenizerDir;
    }

    /** {@code model_index.json}: which class each component is; optional (diffusers writes it). */
    public Path modelIndex() {
        return root.resolve("model_index.json");
    }

    public Path unetDir() {
        return componentDirs.get(UNET);
    }

    public Path vaeDir() {
        return componentDirs.get(VAE);
    }

    public Path textEncoderDir() {
        return componentDirs.get(TEXT_ENCODER);
    }

    /** A name for the model: the folder's name, as A1111 names a checkpoint by its file. */
    public String name() {
        Path abs = root.toAbsolutePath().normalize();
        return abs.getFileName() != null ? abs.getFileName().toString() : abs.toString();
    }

    public Path schedulerConfig() {
        return componentDirs.get(SCHEDULER).resolve("scheduler_config.json");
    }

    /** The fp32 weights file, or the fp16 variant diffusers writes as {@code name.fp16.safetensors}. */
    private Path weights(String component, String name) {
        Path dir = componentDirs.get(component);
        Path plain = dir.resolve(name + ".safetensors");
        Path fp16 = dir.resolve(name + ".fp16.safetensors");
        return Files.isRegularFile(plain) || !Files.isRegularFile(fp16) ? plain : fp16;
    }
}
