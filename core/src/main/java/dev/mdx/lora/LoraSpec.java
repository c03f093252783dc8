package dev.mdx.lora;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One LoRA a request applies: a safetensors file and its strength. The scale multiplies the file's own
 * {@code alpha / rank} factor, for the UNet and the text encoder alike (diffusers' {@code cross_attention_kwargs
 * scale}, A1111's {@code <lora:NAME:SCALE>}); 0 leaves the model exactly as it is.
 */
public record LoraSpec(Path path, double scale) {
    public static final double DEFAULT_SCALE = 1.0;

    public LoraSpec {
        Objects.requireNonNull(path, "path");
        if (!Double.isFinite(scale)) {
            throw new IllegalArgumentException("the LoRA scale must be a finite number, got " + scale);
        }
    }

    /**
     * Parses {@code FILE} or {@code FILE:SCALE} (the scale after the last colon, when that part is a number, so a
     * path with colons still works).
     *
     * @throws IllegalArgumentException for an empty file name or a scale that is not a finite number
     */
    public static LoraSpec parse(String text) {
        Objects.requireNonNull(text, "text");
        int colon = text.lastIndexOf(':');
        String file = text;
        double scale = DEFAULT_SCALE;
        if (colon >= 0) {
            String tail = text.substring(colon + 1).trim();
            Double parsed = parseNumber(tail);
            if (parsed != null) {
                file = text.substring(0, colon);
                scale = parsed;
            } else if (!tail.contains("/") && !tail.contains("\\") && !tail.contains(".")) {
                throw new IllegalArgumentException("'" + text + "': the scale after ':' must be a number, got '"
                        + tail + "'");
            }
        }
        if (file.isBlank()) {
            throw new IllegalArgumentException("'" + text + "' names no file (expected FILE or FILE:SCALE)");
        }
        if (!Double.isFinite(scale)) {
            throw new IllegalArgumentException("'" + text + "': the scale must be a finite number");
        }
        return new LoraSpec(Path.of(file), scale);
    }

    /** A decimal number such as 0.8, -1 or 1e-1; null for anything else (including NaN and Infinity). */
    static Double parseNumber(String s) {
        if (!s.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?")) {
            return null;
        }
        return Double.parseDouble(s);
    }

    /** The file's name and the scale, as a person reads it. */
    public String describe() {
        Path name = path.getFileName();
        return (name == null ? path : name) + " at " + LoraSet.number(scale);
    }
}
