package dev.mdx.train.classifier;

import java.nio.charset.StandardCharsets;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.io.StateDicts;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.Linear;
import dev.mdx.nn.Module;
import dev.mdx.tensor.Ops;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small CNN image classifier: per level a 3x3 conv (padding 1), ReLU and 2x2 max pooling; then flatten, a hidden
 * linear layer with ReLU and a linear layer to the class logits. Keys {@code conv0.*}, {@code conv1.*}, ...,
 * {@code fc1.*}, {@code fc2.*}. Images come in as the data sets store them: (B, C, H, W) in [-1, 1].
 */
public final class ImageClassifier extends Module {
    public static final String WEIGHTS_FILE = "model.safetensors";

    private final ClassifierConfig config;
    private final List<Conv2d> convs = new ArrayList<>();
    private final Linear fc1;
    private final Linear fc2;

    public ImageClassifier(ClassifierConfig config) {
        this.config = config;
        int in = config.inChannels();
        for (int i = 0; i < config.channels().length; i++) {
            convs.add(child("conv" + i, new Conv2d(in, config.channels()[i], 3, 1, 1)));
            in = config.channels()[i];
        }
        int flat = in * config.finalSize() * config.finalSize();
        fc1 = child("fc1", new Linear(flat, config.hiddenSize(), true));
        fc2 = child("fc2", new Linear(config.hiddenSize(), config.numClasses(), true));
    }

    public ClassifierConfig config() {
        return config;
    }

    /** (B, C, H, W) in [-1, 1] -> (B, classes) logits. */
    public NDArray forward(NDArray images) {
        NDArray x = images;
        for (Conv2d conv : convs) {
            x = Ops.maxPool2d(Ops.relu(conv.forward(x)), 2);
        }
        x = x.reshape(x.getShape().get(0), -1);
        return fc2.forward(Ops.relu(fc1.forward(x)));
    }

    /** Writes {@code config.json} and {@code model.safetensors} (weights as float16 or float32). */
    public void save(Path dir, boolean float16) {
        AtomicFiles.writeBytes(dir.resolve(ClassifierConfig.FILE),
                JsonConfig.pretty(config.toJson()).getBytes(StandardCharsets.UTF_8));
        try (NDManager scope = NDManager.newBaseManager()) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            namedParameters().forEach((k, p) -> {
                NDArray v = p.get().toType(float16 ? DataType.FLOAT16 : DataType.FLOAT32, true);
                v.attach(scope);
                tensors.put(k, v);
            });
            SafeTensorsWriter.write(dir.resolve(WEIGHTS_FILE), tensors, Map.of("format", "pt"));
        }
    }

    /** Loads a folder written by {@link #save}; weights become float32 in {@code manager}. */
    public static ImageClassifier load(Path dir, NDManager manager) {
        ImageClassifier model = new ImageClassifier(ClassifierConfig.read(dir.resolve(ClassifierConfig.FILE)));
        StateDicts.load(model, dir.resolve(WEIGHTS_FILE), manager);
        return model;
    }

    /** Supplies images {@code from} (inclusive) to {@code to} (exclusive) as (n, C, H, W) in [-1, 1], in a scope. */
    @FunctionalInterface
    public interface Images {
        NDArray get(NDManager scope, int from, int to);
    }

    /** The predicted class of each of {@code count} images, {@code chunk} images per forward pass. */
    public int[] predict(Images images, int count, int chunk, NDManager parent) {
        int[] out = new int[count];
        for (int from = 0; from < count; from += chunk) {
            int to = Math.min(count, from + chunk);
            try (NDManager scope = parent.newSubManager()) {
                NDArray logits = forward(images.get(scope, from, to));
                long[] arg = logits.argMax(1).toType(DataType.INT64, false).toLongArray();
                for (int i = 0; i < arg.length; i++) {
                    out[from + i] = (int) arg[i];
                }
            }
        }
        return out;
    }
}
