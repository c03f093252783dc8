package dev.mdx.io;

import java.util.List;

/** Weights that do not fit a model: every missing, unexpected and mis-shaped key, reported at once. */
public final class StateDictMismatchException extends ModelFormatException {
    private final List<String> missing;
    private final List<String> unexpected;
    private final List<String> misShaped;

    public StateDictMismatchException(String source, List<String> missing, List<String> unexpected,
            List<String> misShaped) {
        super(describe(source, missing, unexpected, misShaped));
        this.missing = List.copyOf(missing);
        this.unexpected = List.copyOf(unexpected);
        this.misShaped = List.copyOf(misShaped);
    }

    public List<String> missing() {
        return missing;
    }

    public List<String> unexpected() {
        return unexpected;
    }

    public List<String> misShaped() {
        return misShaped;
    }

    private static String describe(String source, List<String> missing, List<String> unexpected,
            List<String> misShaped) {
        StringBuilder sb = new StringBuilder(source).append(": weights do not match the model config");
        section(sb, "missing keys", missing);
        section(sb, "unexpected keys", unexpected);
        section(sb, "keys with the wrong shape", misShaped);
        return sb.toString();
    }

    private static void section(StringBuilder sb, String title, List<String> keys) {
        if (keys.isEmpty()) {
            return;
        }
        sb.append("\n  ").append(keys.size()).append(' ').append(title).append(':');
        keys.forEach(k -> sb.append("\n    ").append(k));
    }
}
