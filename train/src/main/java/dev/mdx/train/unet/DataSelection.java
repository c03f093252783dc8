package dev.mdx.train.unet;

import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import dev.mdx.train.data.DatasetItem;
import dev.mdx.train.data.ImageDataset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A subset of a data set's split and its captions rewritten, from the {@code data} section: {@code labels} (keep
 * the items with one of these labels), {@code styles} (keep the items of one of these styles, e.g. an emoji set),
 * {@code caption_replace} (an object of regular expression to replacement, applied to every caption in order: how a
 * style LoRA's captions stop naming the style, or a concept gets a new word), {@code max_examples} (keep this many,
 * evenly spaced over the filtered pool: short probe runs that should not encode a whole split first). Used by the
 * stages that read the {@code data} section.
 */
record DataSelection(List<String> labels, List<String> styles, Map<Pattern, String> replacements, int maxExamples) {
    static DataSelection of(JsonConfig data) {
        Map<Pattern, String> replace = new LinkedHashMap<>();
        if (data.has("caption_replace")) {
            JsonConfig r = UNetTraining.section(data, "caption_replace");
            r.root().fields().forEachRemaining(e -> {
                if (!e.getValue().isTextual()) {
                    throw r.error(e.getKey(), "must be a string (the replacement)");
                }
                try {
                    replace.put(Pattern.compile(e.getKey()), e.getValue().asText());
                } catch (PatternSyntaxException x) {
                    throw r.error(e.getKey(), "is not a regular expression: " + x.getDescription());
                }
            });
        }
        int max = data.getInt("max_examples", 0);
        if (max < 0) {
            throw data.error("max_examples", "must be > 0 (or 0 for all), got " + max);
        }
        return new DataSelection(data.getStrings("labels", List.of()), data.getStrings("styles", List.of()), replace,
                max);
    }

    boolean selects() {
        return !labels.isEmpty() || !styles.isEmpty() || maxExamples > 0;
    }

    /** The indices whose items pass the filters, at most maxExamples of them; fails naming the filters when none does. */
    int[] filter(ImageDataset dataset, int[] indices, String source) {
        int[] kept = byLabelAndStyle(dataset, indices, source);
        if (maxExamples == 0 || kept.length <= maxExamples) {
            return kept;
        }
        int[] spaced = new int[maxExamples];
        for (int i = 0; i < maxExamples; i++) {
            spaced[i] = kept[(int) ((long) i * kept.length / maxExamples)];
        }
        return spaced;
    }

    private int[] byLabelAndStyle(ImageDataset dataset, int[] indices, String source) {
        if (labels.isEmpty() && styles.isEmpty()) {
            return indices;
        }
        List<Integer> kept = new ArrayList<>();
        for (int i : indices) {
            DatasetItem item = dataset.item(i);
            if ((labels.isEmpty() || labels.contains(item.label()))
                    && (styles.isEmpty() || styles.contains(item.style()))) {
                kept.add(i);
            }
        }
        if (kept.isEmpty()) {
            throw new ModelFormatException(source + ": no item of " + dataset.dir() + " has "
                    + (labels.isEmpty() ? "" : "a label in " + labels) + (labels.isEmpty() || styles.isEmpty() ? ""
                    : " and ") + (styles.isEmpty() ? "" : "a style in " + styles));
        }
        return kept.stream().mapToInt(Integer::intValue).toArray();
    }

    List<String> captions(List<String> captions) {
        if (replacements.isEmpty()) {
            return captions;
        }
        List<String> out = new ArrayList<>();
        for (String c : captions) {
            for (Map.Entry<Pattern, String> e : replacements.entrySet()) {
                c = e.getKey().matcher(c).replaceAll(e.getValue());
            }
            out.add(c.strip());
        }
        return out;
    }

    /** What the latents depend on beyond the split: the filters (not the captions). */
    String describe() {
        return selects() ? "labels=" + labels + ";styles=" + styles + (maxExamples > 0 ? ";max=" + maxExamples : "")
                : "";
    }
}
