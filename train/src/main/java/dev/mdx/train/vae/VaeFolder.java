package dev.mdx.train.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.vae.AutoencoderKL;
import dev.mdx.vae.VaeConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes a model as a diffusers {@code vae/} folder: {@code config.json} and the safetensors weights. */
public final class VaeFolder {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "diffusion_pytorch_model.safetensors";

    private VaeFolder() {}

    /**
     * Writes {@code config} and the model's weights (as fp16 when {@code float16}, otherwise fp32) into {@code dir},
     * replacing what is there; each file is written atomically.
     */
    public static void write(Path dir, VaeConfig config, AutoencoderKL model, boolean float16) {
        try {
            Files.createDirectories(dir);
            AtomicFiles.writeBytes(dir.resolve(CONFIG), (config.toJson() + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(CONFIG) + ": " + e.getMessage(), e);
        }
        try (NDManager scope = NDManager.newBaseManager()) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            model.namedParameters().forEach((k, p) -> {
                NDArray a = p.get();
                // toType on a weight puts the copy in the weight's manager: move it to the scope closed below
                NDArray cast = a.toType(float16 ? DataType.FLOAT16 : DataType.FLOAT32, true);
                cast.attach(scope);
                tensors.put(k, cast);
            });
            SafeTensorsWriter.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
        }
    }
}
