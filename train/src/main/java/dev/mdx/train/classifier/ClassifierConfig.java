package dev.mdx.train.classifier;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The architecture of an {@link ImageClassifier}, stored as {@code config.json} beside its weights.
 *
 * @param inChannels image channels (1 for Fashion-MNIST)
 * @param imageSize side of the square input images; divisible by 2^(levels)
 * @param channels output channels of each 3x3 conv level (each followed by ReLU and 2x2 max pooling)
 * @param hiddenSize width of the hidden fully connected layer
 * @param classNames class names by class id (the data set's labels)
 */
public record ClassifierConfig(int inChannels, int imageSize, int[] channels, int hiddenSize, List<String> classNames) {
    public static final String FILE = "config.json";

    public ClassifierConfig {
        classNames = List.copyOf(classNames);
        channels = channels.clone();
        if (inChannels < 1 || hiddenSize < 1 || channels.length == 0 || classNames.size() < 2) {
            throw new ModelFormatException("classifier config: need in_channels >= 1, hidden_size >= 1, at least one "
                    + "conv level and two classes");
        }
        if (Arrays.stream(channels).anyMatch(c -> c < 1)) {
            throw new ModelFormatException("classifier config: channels must all be >= 1, got "
                    + Arrays.toString(channels));
        }
        if (imageSize % (1 << channels.length) != 0) {
            throw new ModelFormatException("classifier config: image_size " + imageSize + " is not divisible by 2^"
                    + channels.length + " (one 2x2 pooling per conv level)");
        }
    }

    public int numClasses() {
        return classNames.size();
    }

    /** Side of the feature map after the last pooling. */
    public int finalSize() {
        return imageSize >> channels.length;
    }

    public ObjectNode toJson() {
        ObjectNode o = JsonConfig.MAPPER.createObjectNode();
        o.put("_class_name", "ImageClassifier");
        o.put("in_channels", inChannels);
        o.put("image_size", imageSize);
        ArrayNode ch = o.putArray("channels");
        for (int c : channels) {
            ch.add(c);
        }
        o.put("hidden_size", hiddenSize);
        ArrayNode names = o.putArray("class_names");
        classNames.forEach(names::add);
        return o;
    }

    public static ClassifierConfig from(JsonConfig c) {
        List<String> names = c.getStrings("class_names", null);
        if (names == null) {
            throw c.error("class_names", "is missing");
        }
        try {
            return new ClassifierConfig(c.requireInt("in_channels"), c.requireInt("image_size"),
                    c.getInts("channels", null), c.requireInt("hidden_size"), names);
        } catch (ModelFormatException e) {
            throw e.getMessage().startsWith(c.source()) ? e : new ModelFormatException(c.source() + ": "
                    + e.getMessage(), e);
        }
    }

    public static ClassifierConfig read(Path file) {
        return from(JsonConfig.read(file));
    }
}
