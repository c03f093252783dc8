package dev.mdx.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The held-out paraphrase list of a data set, {@code heldout_prompts.jsonl} beside the manifest: one JSON object per
 * line ({@code prompt}, {@code label}, {@code classId}, {@code style}). Writing refuses a prompt that is also a
 * training caption, so "held out" is checked, not assumed.
 */
public final class HeldOutPrompts {
    public static final String FILE = "heldout_prompts.jsonl";

    private HeldOutPrompts() {}

    static void write(Path dir, List<HeldOutPrompt> prompts, Set<String> trainCaptions) {
        StringBuilder out = new StringBuilder();
        for (HeldOutPrompt p : prompts) {
            if (trainCaptions.contains(p.prompt())) {
                throw new DatasetException("held-out prompt '" + p.prompt() + "' is also a training caption");
            }
            ObjectNode n = ImageDatasetWriter.MAPPER.createObjectNode();
            n.put("prompt", p.prompt()).put("label", p.label()).put("classId", p.classId());
            if (p.style() != null) {
                n.put("style", p.style());
            }
            out.append(n).append('\n');
        }
        AtomicFiles.writeBytes(dir.resolve(FILE), out.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** The list of a built set; a set built without a vocabulary has none. */
    public static List<HeldOutPrompt> read(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new DatasetException(dir + " has no " + FILE + " (build it with --captions v2)");
        }
        List<HeldOutPrompt> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = ImageDatasetWriter.MAPPER.readTree(line);
                out.add(new HeldOutPrompt(n.path("prompt").asText(), n.path("label").asText(), n.path("classId").asInt(),
                        n.hasNonNull("style") ? n.get("style").asText() : null));
            }
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        return out;
    }
}
