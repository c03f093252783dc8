package dev.mdx.testing;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mdx.lora.KohyaLoraWriter;
import dev.mdx.lora.LoraPart;
import dev.mdx.lora.LoraTargets;
import dev.mdx.nn.Module;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;

/** Seeded random LoRA files in kohya's format for the layers of a model (test helper, not a test). */
public final class LoraFixtures {
    private LoraFixtures() {}

    /**
     * Random kohya layers for every LoRA-able layer of {@code model} whose path passes {@code which}: down
     * ~ N(0, 1/fanIn), up ~ N(0, std^2), alpha = rank / 2 (factor 0.5); conv downs carry the conv's kernel.
     */
    public static List<KohyaLoraWriter.Layer> randomLayers(LoraPart part, Module model, Predicate<String> which,
            int rank, float upStd, long seed, NDManager manager) {
        Random rng = new Random(seed);
        List<KohyaLoraWriter.Layer> layers = new ArrayList<>();
        for (LoraTargets.Target t : LoraTargets.of(part, model).all().values()) {
            if (!which.test(t.path())) {
                continue;
            }
            Shape w = t.weightShape();
            Shape down = t.conv() ? new Shape(rank, w.get(1), w.get(2), w.get(3)) : new Shape(rank, w.get(1));
            Shape up = t.conv() ? new Shape(w.get(0), rank, 1, 1) : new Shape(w.get(0), rank);
            layers.add(new KohyaLoraWriter.Layer(part, t.path(),
                    randn(manager, rng, (float) (1 / Math.sqrt(t.fanIn())), down), randn(manager, rng, upStd, up),
                    rank / 2f));
        }
        return layers;
    }

    public static Path write(Path file, List<KohyaLoraWriter.Layer> layers) {
        KohyaLoraWriter.write(file, layers, Map.of("ss_network_module", "networks.lora"));
        return file;
    }

    private static ai.djl.ndarray.NDArray randn(NDManager m, Random rng, float std, Shape s) {
        float[] data = new float[Math.toIntExact(s.size())];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) rng.nextGaussian() * std;
        }
        return m.create(data, s).toType(DataType.FLOAT32, false);
    }
}
