package dev.mdx.pipeline;

import dev.mdx.lora.BoundLora;
import dev.mdx.lora.LoraException;
import dev.mdx.lora.LoraFile;
import dev.mdx.lora.LoraPart;
import dev.mdx.lora.LoraSet;
import dev.mdx.lora.LoraSpec;
import dev.mdx.lora.LoraTargets;
import dev.mdx.lora.PromptLoras;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Resolves the LoRAs of a request against the model variant that runs it, at plan time: the request's list, then
 * the prompt's {@code <lora:NAME:SCALE>} tags (looked up in the LoRA folder and taken out of the prompt). Every
 * file is read and each of its tensors matched to a layer of the variant's UNet or of the text encoder; a file
 * with tensors that match nothing fails the request, listing them, unless the request is lenient.
 */
final class LoraPlanner {
    /** What a request's LoRAs resolve to. */
    record Resolved(String prompt, LoraSet set, List<String> notes, List<String> warnings) {}

    /** Where {@code <lora:NAME>} is looked up; may not exist. */
    private final Path loraDir;
    /** Each variant's LoRA-able layers, from module trees built from its configs (no weights). */
    private final Map<ModelVariant, Map<LoraPart, LoraTargets>> targets = new ConcurrentHashMap<>();

    LoraPlanner(Path loraDir) {
        this.loraDir = loraDir;
    }

    Path loraDir() {
        return loraDir;
    }

    Resolved resolve(GenerationRequest request, ModelVariant variant) {
        PromptLoras.Extraction extraction;
        try {
            extraction = PromptLoras.extract(request.prompt());
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("prompt", e.getMessage());
        }
        if (request.loras().isEmpty() && extraction.tags().isEmpty()) {
            return new Resolved(request.prompt(), LoraSet.EMPTY, List.of(), List.of());
        }
        List<LoraSet.Entry> entries = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        for (LoraSpec spec : request.loras()) {
            entries.add(bind(spec.path(), spec.scale(), "the request", request.loraLenient(), variant, notes,
                    warnings));
        }
        for (PromptLoras.Tag tag : extraction.tags()) {
            Path file;
            try {
                file = PromptLoras.resolve(loraDir, tag.name());
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException("prompt", "has " + tag.text() + ", but " + e.getMessage());
            }
            entries.add(bind(file, tag.scale(), tag.text(), request.loraLenient(), variant, notes, warnings));
        }
        return new Resolved(extraction.prompt(), new LoraSet(entries), notes, warnings);
    }

    private LoraSet.Entry bind(Path file, double scale, String source, boolean lenient, ModelVariant variant,
            List<String> notes, List<String> warnings) {
        BoundLora bound = BoundLora.bind(LoraFile.read(file), targets(variant));
        if (!bound.complete() && !lenient) {
            throw new LoraException(bound.describeProblems("nothing was applied; a lenient request"
                    + " (--lora-lenient) applies the layers that match and skips the rest"));
        }
        String name = String.valueOf(file.getFileName());
        notes.add("LoRA " + name + " at " + LoraSet.number(scale) + ": " + bound.summary()
                + (source.startsWith("<") ? " from " + source : ""));
        if (!bound.complete()) {
            warnings.add(bound.describeProblems("these were skipped (lenient)"));
        }
        return new LoraSet.Entry(bound, scale, source);
    }

    private Map<LoraPart, LoraTargets> targets(ModelVariant variant) {
        return targets.computeIfAbsent(variant, v -> LoraTargets.of(UNet2DConditionModel.fromConfig(v.config().unet()),
                new ClipTextModel(v.config().textEncoder())));
    }
}
