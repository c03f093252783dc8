package dev.mdx.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mdx.testing.Golden;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Reader for {@code schedulers/schedulers_golden.json}: keeps the exact decimal of every number so float32 values
 * parse as the README prescribes (Float.parseFloat of the shortest round-trip decimal), plus the synthetic model.
 */
final class SchedulerGolden {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    final Path file;
    final JsonNode root;
    final Shape sampleShape;
    private final float a;
    private final float b;
    private final float c;
    private final double d;

    private SchedulerGolden(Path file, JsonNode root) {
        this.file = file;
        this.root = root;
        JsonNode shape = root.get("sample_shape");
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.get(i).asLong();
        }
        this.sampleShape = new Shape(dims);
        JsonNode model = root.get("synthetic_model");
        this.a = f(model.get("a"));
        this.b = f(model.get("b"));
        this.c = f(model.get("c"));
        this.d = model.get("d").asDouble();
    }

    static SchedulerGolden load() {
        Path file = Golden.root().resolve("schedulers/schedulers_golden.json");
        try {
            return new SchedulerGolden(file, MAPPER.readTree(file.toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static float f(JsonNode n) {
        return Float.parseFloat(n.asText());
    }

    static float[] floats(JsonNode n) {
        float[] out = new float[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = f(n.get(i));
        }
        return out;
    }

    NDArray tensor(NDManager manager, JsonNode n) {
        return manager.create(floats(n), sampleShape);
    }

    /**
     * The golden's fake denoiser: out[j] = a x[j] + b sin(c (j + 1) + t d) over the flat C-order index j, in float32
     * as torch evaluates it (c (j + 1) in float32, t d in double then added as a float32 scalar).
     */
    NDArray syntheticModel(NDArray modelInput, double t) {
        float[] x = modelInput.toFloatArray();
        float shift = (float) (t * d);
        float[] out = new float[x.length];
        for (int j = 0; j < x.length; j++) {
            float arg = c * (float) (j + 1) + shift;
            out[j] = a * x[j] + b * (float) Math.sin(arg);
        }
        return modelInput.getManager().create(out, modelInput.getShape());
    }
}
