package dev.mdx.lora;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A1111's and stable-diffusion.cpp's LoRA syntax inside a prompt: {@code <lora:NAME>} or {@code <lora:NAME:SCALE>}
 * names {@code NAME.safetensors} in a LoRA folder. The tags are taken out of the text the text encoder reads.
 */
public final class PromptLoras {
    /** A LoRA named in a prompt. */
    public record Tag(String text, String name, double scale) {}

    /** The prompt without its tags, and the tags in order. */
    public record Extraction(String prompt, List<Tag> tags) {}

    private static final Pattern TAG = Pattern.compile("<lora:([^>]*)>", Pattern.CASE_INSENSITIVE);

    private PromptLoras() {}

    /**
     * Finds the LoRA tags of a prompt.
     *
     * @throws IllegalArgumentException for a tag without a name or with a scale that is not a number
     */
    public static Extraction extract(String prompt) {
        Matcher m = TAG.matcher(prompt);
        List<Tag> tags = new ArrayList<>();
        StringBuilder rest = new StringBuilder();
        while (m.find()) {
            String body = m.group(1);
            int colon = body.lastIndexOf(':');
            String name = body.trim();
            double scale = LoraSpec.DEFAULT_SCALE;
            if (colon >= 0) {
                String tail = body.substring(colon + 1).trim();
                Double parsed = LoraSpec.parseNumber(tail);
                if (parsed == null) {
                    throw new IllegalArgumentException("the LoRA tag " + m.group() + " needs a number after its last"
                            + " ':' (<lora:NAME:SCALE>), got '" + tail + "'");
                }
                name = body.substring(0, colon).trim();
                scale = parsed;
            }
            if (name.contains(":")) {
                throw new IllegalArgumentException("the LoRA tag " + m.group() + " gives two scales; mdx applies one"
                        + " scale to the UNet and the text encoder alike (<lora:NAME:SCALE>)");
            }
            if (name.isEmpty()) {
                throw new IllegalArgumentException("the LoRA tag " + m.group() + " names no LoRA (<lora:NAME:SCALE>)");
            }
            tags.add(new Tag(m.group(), name, scale));
            m.appendReplacement(rest, "");
        }
        m.appendTail(rest);
        return new Extraction(tags.isEmpty() ? prompt : rest.toString(), List.copyOf(tags));
    }

    /**
     * The file a tag names in {@code dir}: NAME as given when it exists there (a name may include a sub-folder and
     * an extension), else NAME.safetensors. A name that leads out of the folder is refused.
     *
     * @throws IllegalArgumentException when there is no such LoRA, naming the folder and what it holds
     */
    public static Path resolve(Path dir, String name) {
        Path root = dir.toAbsolutePath().normalize();
        Path direct = root.resolve(name).normalize();
        if (!direct.startsWith(root) || direct.equals(root)) {
            throw new IllegalArgumentException("the LoRA name '" + name + "' leads out of the LoRA folder " + dir);
        }
        if (Files.isRegularFile(direct)) {
            return direct;
        }
        Path file = direct.resolveSibling(direct.getFileName() + ".safetensors");
        if (Files.isRegularFile(file)) {
            return file;
        }
        for (String ext : List.of(".ckpt", ".pt", ".pth")) {
            Path pickled = direct.resolveSibling(direct.getFileName() + ext);
            if (Files.isRegularFile(pickled)) {
                return pickled;
            }
        }
        throw new IllegalArgumentException("no LoRA '" + name + "' in " + dir + available(root));
    }

    private static String available(Path root) {
        if (!Files.isDirectory(root)) {
            return " (no such folder)";
        }
        try (var files = Files.list(root)) {
            List<String> names = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.toLowerCase(Locale.ROOT).endsWith(".safetensors"))
                    .map(n -> n.substring(0, n.length() - ".safetensors".length()))
                    .sorted().limit(20).toList();
            return names.isEmpty() ? " (it holds no .safetensors files)"
                    : " (it has: " + String.join(", ", names) + ")";
        } catch (IOException e) {
            return "";
        }
    }
}
