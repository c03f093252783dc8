package dev.mdx.io;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mdx.nn.Module;
import dev.mdx.nn.Parameter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/** Moves weights between safetensors files and module trees, keyed by state-dict names. */
public final class StateDicts {
    private StateDicts() {}

    /**
     * Strictly loads every parameter of {@code module} from {@code file} into {@code manager} as FLOAT32. Before
     * anything is loaded, all missing, unexpected and mis-shaped keys are collected and reported in one exception.
     */
    public static void load(Module module, Path file, NDManager manager) {
        try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
            load(module, st, manager);
        }
    }

    public static void load(Module module, SafeTensorsFile st, NDManager manager) {
        load(module, st, manager, UnaryOperator.identity());
    }

    /**
     * Like {@link #load(Module, SafeTensorsFile, NDManager)}, with each file key first passed through
     * {@code fileKeyToModelKey}: it may rename a key (older layouts of the same model) or return null for a
     * tensor the model knowingly ignores (a saved buffer). Two file keys that land on the same model key are
     * reported as unexpected.
     */
    public static void load(Module module, SafeTensorsFile st, NDManager manager,
            UnaryOperator<String> fileKeyToModelKey) {
        Map<String, Parameter> params = module.namedParameters();
        Map<String, String> fileKeyOf = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        List<String> misShaped = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        for (String fileKey : st.tensors().keySet()) {
            String modelKey = fileKeyToModelKey.apply(fileKey);
            if (modelKey == null) {
                continue;
            }
            if (!params.containsKey(modelKey)) {
                unexpected.add(fileKey);
            } else if (fileKeyOf.putIfAbsent(modelKey, fileKey) != null) {
                unexpected.add(fileKey + " (duplicates " + fileKeyOf.get(modelKey) + ")");
            }
        }
        params.forEach((key, p) -> {
            String fileKey = fileKeyOf.get(key);
            if (fileKey == null) {
                missing.add(key);
            } else if (!st.info(fileKey).shape().equals(p.shape())) {
                misShaped.add(fileKey + ": file has " + st.info(fileKey).shape() + ", model expects " + p.shape());
            }
        });
        if (!missing.isEmpty() || !unexpected.isEmpty() || !misShaped.isEmpty()) {
            throw new StateDictMismatchException(st.path().toString(), missing, unexpected, misShaped);
        }
        params.forEach((key, p) -> p.set(st.load(fileKeyOf.get(key), manager, DataType.FLOAT32)));
    }

    /** The module's parameters by key, in registration order. */
    public static Map<String, NDArray> tensors(Module module) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        module.namedParameters().forEach((k, p) -> out.put(k, p.get()));
        return out;
    }

    public static void save(Module module, Path file, Map<String, String> metadata) {
        SafeTensorsWriter.write(file, tensors(module), metadata);
    }

    /**
     * Fills every parameter with seeded random values of a plausible scale: weights ~ N(0, 1/fan_in), norm
     * scales 1, biases 0. Used for benchmarks, tests and as the start of training.
     */
    public static void initRandom(Module module, NDManager manager, long seed) {
        // the engine's generator fills large models in native code; seeding it makes the result repeatable
        Engine.getInstance().setRandomSeed((int) seed);
        module.namedParameters().forEach((key, p) -> {
            long[] dims = p.shape().getShape();
            NDArray value;
            if (dims.length == 1 && key.endsWith("weight") && isNorm(key)) {
                value = manager.ones(p.shape());
            } else if (dims.length == 1) {
                value = manager.zeros(p.shape());
            } else {
                long fanIn = p.shape().size() / dims[0];
                boolean embedding = key.endsWith("embedding.weight") || key.contains("embeddings");
                float std = embedding ? 0.02f : (float) (1.0 / Math.sqrt(Math.max(1, fanIn)));
                value = manager.randomNormal(0f, std, p.shape(), DataType.FLOAT32);
            }
            p.set(value);
        });
    }

    private static boolean isNorm(String key) {
        String k = key.toLowerCase();
        return k.contains("norm") || k.contains("ln_") || k.contains("layer_norm");
    }
}
