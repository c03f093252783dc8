package dev.mdx.web;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.export.OnnxExport;
import dev.mdx.export.OnnxPrecision;
import dev.mdx.io.JsonConfig;
import dev.mdx.pipeline.GenerationRequest;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.tensor.NoiseSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/**
 * The page's model: the bundled one-step emoji student (models/emoji/students/ufogen) exported to ONNX once per
 * test JVM, and what mdx itself computes for it: the starting noise of a seed and the image of a prompt and seed.
 */
final class OneStepEmoji {
    private static Path exported;
    private static Path exportedFp16;

    private OneStepEmoji() {}

    static Path student() {
        return WebFolder.repository().resolve("models/emoji/students/ufogen");
    }

    /** The exported folder (model.json, the three graphs, tokenizer/), made on first use, removed at exit. */
    static synchronized Path exported() {
        if (exported == null) {
            exported = export(OnnxPrecision.FP32);
        }
        return exported;
    }

    /** The same with float16 weights (half the download). */
    static synchronized Path exportedFp16() {
        if (exportedFp16 == null) {
            exportedFp16 = export(OnnxPrecision.FP16);
        }
        return exportedFp16;
    }

    private static Path export(OnnxPrecision precision) {
        try {
            Path dir = Files.createTempDirectory("mdx-web-model");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir)));
            OnnxExport.export(student(), dir, precision);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** (1, C, h, w) of the starting latents, from model.json. */
    static Shape latentShape() {
        JsonNode latent = JsonConfig.read(exported().resolve(OnnxExport.MODEL_JSON)).root().get("latent");
        return new Shape(1, latent.get("channels").asLong(), latent.get("height").asLong(), latent.get("width").asLong());
    }

    /** mdx's starting noise for {@code seed}, as {@code mdx generate -s SEED} draws it. */
    static float[] noise(long seed) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray n = NoiseSource.seeded(seed).gaussian(m, latentShape());
            return n.toFloatArray();
        }
    }

    static byte[] littleEndian(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b.array();
    }

    /** What {@code mdx generate PROMPT --steps 1 -s SEED} writes (the emoji model picks its UFOGen student). */
    static RgbImage mdxImage(String prompt, long seed) {
        try (TextToImagePipeline p = TextToImagePipeline.load(WebFolder.repository().resolve("models/emoji"))) {
            return p.generate(GenerationRequest.builder().prompt(prompt).steps(1).seed(seed).build()).images().get(0);
        }
    }

    private static void delete(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temporary folder is harmless
        }
    }
}
