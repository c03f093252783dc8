package dev.mdx.train.data;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One image's manifest entry. {@code captions.get(0)} is the canonical caption, the others are variants a
 * trainer may sample. {@code key} names the source item stably across rebuilds ("1f98a/twemoji",
 * "train/41"); {@code style} and {@code holdout} ("emoji": the whole emoji is held out, "pair": only this
 * emoji in this style) are null where they do not apply.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DatasetItem(int index, String split, String label, int classId, String style, List<String> captions,
        String key, String holdout) {
    public static final String TRAIN = "train";
    public static final String TEST = "test";

    public DatasetItem {
        if (split == null) {
            throw new IllegalArgumentException("item " + key + " has no split");
        }
        if (captions == null || captions.isEmpty()) {
            throw new IllegalArgumentException("item " + key + " has no caption");
        }
        captions = List.copyOf(captions);
    }

    public String caption() {
        return captions.get(0);
    }

    DatasetItem withIndex(int newIndex) {
        return new DatasetItem(newIndex, split, label, classId, style, captions, key, holdout);
    }
}
