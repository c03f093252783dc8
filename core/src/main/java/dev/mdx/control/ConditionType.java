package dev.mdx.control;

import dev.mdx.pipeline.EditImages;
import dev.mdx.pipeline.GrayImage;
import dev.mdx.pipeline.RgbImage;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The kinds of condition map an adapter reads, each with the extractor that makes it from a photo. */
public enum ConditionType {
    /** Canny edges of the luminance: 255 on an edge, 0 elsewhere. */
    CANNY("canny"),
    /** The object's silhouette against the background: 255 inside, 0 outside. */
    MASK("mask");

    private final String cliName;

    ConditionType(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** The condition map of {@code image}, the image's size. */
    public GrayImage extract(RgbImage image) {
        return switch (this) {
            case CANNY -> CannyEdges.DEFAULT.detect(EditImages.luminance(image));
            case MASK -> Silhouette.DEFAULT.of(image);
        };
    }

    /** The type named {@code name} (case-insensitive); {@link IllegalArgumentException} lists the names. */
    public static ConditionType parse(String name) {
        for (ConditionType t : values()) {
            if (t.cliName.equalsIgnoreCase(name.trim())) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown condition type \"" + name + "\" (known: " + names() + ")");
    }

    public static String names() {
        return Arrays.stream(values()).map(ConditionType::cliName).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return cliName.toLowerCase(Locale.ROOT);
    }
}
