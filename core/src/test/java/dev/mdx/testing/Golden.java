package dev.mdx.testing;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;

/**
 * Locates the golden reference data: {@code -Dmdx.golden=DIR} overrides the copy in test resources. Folders are
 * discovered by their files (a config.json with an io.safetensors beside it), never listed in code.
 */
public final class Golden {
    private Golden() {}

    public static Path root() {
        String prop = System.getProperty("mdx.golden");
        Path p = prop != null && !prop.isBlank() ? Paths.get(prop) : defaultRoot();
        Assertions.assertTrue(Files.isDirectory(p), "golden folder not found: " + p);
        return p;
    }

    private static Path defaultRoot() {
        try {
            return Paths.get(Golden.class.getResource("/golden/model_index.json").toURI()).getParent();
        } catch (Exception e) {
            throw new IllegalStateException("golden data missing from test resources", e);
        }
    }

    /**
     * The shared golden folder beside the repository, which alone holds the CLIP vocabulary files. Returns null
     * (after printing a loud SKIPPED line) when it is absent.
     */
    public static Path sharedTokenizerDir(String testName) {
        String prop = System.getProperty("mdx.shared.golden");
        Path[] candidates = prop != null ? new Path[] {Paths.get(prop)} : new Path[] {
            root(), Paths.get("../shared/golden"), Paths.get("../../shared/golden"), Paths.get("../../../shared/golden")};
        for (Path c : candidates) {
            Path tok = c.resolve("tokenizer");
            if (Files.isRegularFile(tok.resolve("vocab.json")) && Files.isRegularFile(tok.resolve("merges.txt"))) {
                return tok.toAbsolutePath().normalize();
            }
        }
        System.out.println("!!!!! SKIPPED " + testName + ": CLIP vocab.json/merges.txt not found in ../shared/golden/tokenizer"
                + " (set -Dmdx.shared.golden=DIR) !!!!!");
        return null;
    }

    /** Every folder under the golden root with a config.json of the given class and an io.safetensors. */
    public static List<Path> componentDirs(String className) {
        try (Stream<Path> walk = Files.walk(root())) {
            return walk.filter(p -> p.getFileName().toString().equals("config.json"))
                    .map(Path::getParent)
                    .filter(d -> Files.isRegularFile(d.resolve("io.safetensors")))
                    .filter(d -> className.equals(classNameOf(d.resolve("config.json"))))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The folder of one component of the golden pipeline ({@code pipeline/} was made with these): {@code key} is a
     * component of model_index.json such as "unet", "vae" or "text_encoder", whose folder diffusers names after it.
     */
    public static Path pipelineComponent(String key) {
        JsonNode index = JsonConfig.read(root().resolve("model_index.json")).root();
        Assertions.assertTrue(index.has(key), "the golden model_index.json has no component '" + key + "'");
        return root().resolve(key);
    }

    /** diffusers' vae_scale_factor of the golden pipeline, as pipeline/pipeline_golden.json records it. */
    public static int pipelineVaeScaleFactor() {
        return JsonConfig.read(root().resolve("pipeline/pipeline_golden.json")).requireInt("vae_scale_factor");
    }

    /** diffusers' default image size of the golden pipeline: unet sample_size x vae_scale_factor. */
    public static int pipelineImageSize() {
        return JsonConfig.read(pipelineComponent("unet").resolve("config.json")).requireInt("sample_size")
                * pipelineVaeScaleFactor();
    }

    /** The scheduler class the golden model_index.json names. */
    public static String pipelineSchedulerClass() {
        return JsonConfig.read(root().resolve("model_index.json")).root().path("scheduler").path(1).asText();
    }

    static String classNameOf(Path config) {
        JsonNode root = JsonConfig.read(config).root();
        if (root.hasNonNull("_class_name")) {
            return root.get("_class_name").asText();
        }
        JsonNode arch = root.get("architectures");
        return arch != null && arch.isArray() && arch.size() > 0 ? arch.get(0).asText() : "";
    }

    /** The suggested absolute tolerance for a tensor of a golden file, from tolerances.json. */
    public static double tolerance(Path ioFile, String tensor, double fallback) {
        Path tol = root().resolve("tolerances.json");
        if (!Files.exists(tol)) {
            return fallback;
        }
        String rel = root().relativize(ioFile).toString().replace('\\', '/');
        for (JsonNode row : JsonConfig.read(tol).root().get("rows")) {
            if (row.get("file").asText().equals(rel) && row.get("tensor").asText().equals(tensor)) {
                return row.get("suggested_atol").asDouble();
            }
        }
        return fallback;
    }

    /** Asserts two arrays have the same shape and a max abs difference within atol; prints the error. */
    public static double assertClose(NDArray expected, NDArray actual, double atol, String what) {
        Assertions.assertEquals(expected.getShape(), actual.getShape(), what + ": shape");
        float[] e = expected.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
        float[] a = actual.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
        double max = 0;
        for (int i = 0; i < e.length; i++) {
            double d = Math.abs((double) e[i] - a[i]);
            if (!(d <= max)) {
                max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
            }
        }
        System.out.printf("%s: max abs error %.3g (atol %.3g, %d elements)%n", what, max, atol, e.length);
        Assertions.assertTrue(max <= atol, what + ": max abs error " + max + " exceeds " + atol);
        return max;
    }
}
