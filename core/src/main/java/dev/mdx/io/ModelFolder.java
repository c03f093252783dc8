package dev.mdx.io;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A diffusers-layout pipeline folder: {@code model_index.json} and one subfolder per component. Opening checks
 * that every file the text-to-image pipeline needs is present and names all that are missing at once. The
 * tokenizer may come from another folder (a pipeline saved without its vocabulary, composed with a shared one).
 *
 * <p>Where each component lives comes from the folder's {@link ModelIndex} (mdx may map components to other
 * folders: a distilled student shipped beside its base model holds only its own UNet and scheduler and reuses the
 * base's frozen parts this way).
 */
public final class ModelFolder {
    public static final String UNET = ModelIndex.UNET;
    public static final String VAE = ModelIndex.VAE;
    public static final String TEXT_ENCODER = ModelIndex.TEXT_ENCODER;
    public static final String TOKENIZER = ModelIndex.TOKENIZER;
    public static final String SCHEDULER = ModelIndex.SCHEDULER;

    private final Path root;
    private final Path tokenizerDir;
    private final ModelIndex index;

    private ModelFolder(Path root, Path tokenizerDir, ModelIndex index) {
        this.root = root;
        this.tokenizerDir = tokenizerDir;
        this.index = index;
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
        return open(ModelIndex.read(root), tokenizerDir);
    }

    /** Opens the folder of an index already read (a student listed in its base's index). */
    public static ModelFolder open(ModelIndex index) {
        return open(index, null);
    }

    private static ModelFolder open(ModelIndex index, Path tokenizerDir) {
        Path root = index.root();
        ModelFolder folder = new ModelFolder(root, tokenizerDir != null ? tokenizerDir : index.dir(TOKENIZER), index);
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

    public Path root() {
        return root;
    }

    /** The parsed model_index.json (component folders, scheduler class, mdx's student keys, the students). */
    public ModelIndex index() {
        return index;
    }

    public Path unetConfig() {
        return index.dir(UNET).resolve("config.json");
    }

    public Path unetWeights() {
        return weights(UNET, "diffusion_pytorch_model");
    }

    public Path vaeConfig() {
        return index.dir(VAE).resolve("config.json");
    }

    public Path vaeWeights() {
        return weights(VAE, "diffusion_pytorch_model");
    }

    public Path textEncoderConfig() {
        return index.dir(TEXT_ENCODER).resolve("config.json");
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

    public Path unetDir() {
        return index.dir(UNET);
    }

    public Path vaeDir() {
        return index.dir(VAE);
    }

    public Path textEncoderDir() {
        return index.dir(TEXT_ENCODER);
    }

    /** A name for the model: the folder's name, as A1111 names a checkpoint by its file. */
    public String name() {
        return index.name();
    }

    public Path schedulerConfig() {
        return index.dir(SCHEDULER).resolve("scheduler_config.json");
    }

    /** The fp32 weights file, or the fp16 variant diffusers writes as {@code name.fp16.safetensors}. */
    private Path weights(String component, String name) {
        Path dir = index.dir(component);
        Path plain = dir.resolve(name + ".safetensors");
        Path fp16 = dir.resolve(name + ".fp16.safetensors");
        return Files.isRegularFile(plain) || !Files.isRegularFile(fp16) ? plain : fp16;
    }
}
