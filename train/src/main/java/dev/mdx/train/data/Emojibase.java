package dev.mdx.train.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mdx.io.JsonConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Parses emojibase's {@code en/data.json}: an array of base emoji, each with label, hexcode, tags, group, order and
 * optional {@code skins} (variants with their own label, hexcode and {@code tone}, a number or an array for
 * multi-person emoji). Components (group 2: skin-tone swatches, hair parts) and entries without a group (regional
 * indicator letters) are not pictures of anything on their own and are left out.
 */
public final class Emojibase {
    static final int COMPONENT_GROUP = 2;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Emojibase() {}

    /** Base emoji and their skin-tone variants, in emojibase order (each base followed by its variants). */
    public static List<EmojiEntry> parse(String source, byte[] dataJson) {
        JsonNode root;
        try {
            root = MAPPER.readTree(dataJson);
        } catch (JsonProcessingException e) {
            throw new DatasetException(source + ": " + JsonConfig.describe(e), e);
        } catch (IOException e) {
            throw new DatasetException(source + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (root == null || !root.isArray()) {
            throw new DatasetException(source + ": expected a JSON array of emoji");
        }
        List<EmojiEntry> entries = new ArrayList<>();
        for (JsonNode node : root) {
            JsonNode group = node.get("group");
            if (group == null || !group.isInt() || group.asInt() == COMPONENT_GROUP) {
                continue;
            }
            String hexcode = text(source, node, "hexcode");
            String label = text(source, node, "label");
            List<String> tags = new ArrayList<>();
            JsonNode tagNode = node.get("tags");
            if (tagNode != null && tagNode.isArray()) {
                tagNode.forEach(t -> tags.add(t.asText()));
            }
            int order = node.path("order").asInt(entries.size());
            entries.add(new EmojiEntry(hexcode, hexcode, label, label, tags, List.of(), order));
            JsonNode skins = node.get("skins");
            if (skins != null && skins.isArray()) {
                for (JsonNode skin : skins) {
                    entries.add(new EmojiEntry(text(source, skin, "hexcode"), hexcode, text(source, skin, "label"),
                            label, tags, tones(source, skin), skin.path("order").asInt(order)));
                }
            }
        }
        if (entries.isEmpty()) {
            throw new DatasetException(source + ": no emoji found");
        }
        return entries;
    }

    /**
     * Parses one of emojibase's shortcode files ({@code en/shortcodes/emojibase.json}, {@code github.json}): an object
     * from hexcode to one shortcode or an array of them. Keys come back upper-case, as {@code data.json} writes them.
     */
    public static Map<String, List<String>> parseShortcodes(String source, byte[] json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (IOException e) {
            throw new DatasetException(source + ": cannot read shortcodes (" + e.getMessage() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new DatasetException(source + ": expected a JSON object of shortcodes");
        }
        Map<String, List<String>> out = new HashMap<>();
        root.fields().forEachRemaining(f -> {
            List<String> codes = new ArrayList<>();
            if (f.getValue().isArray()) {
                f.getValue().forEach(v -> codes.add(v.asText()));
            } else {
                codes.add(f.getValue().asText());
            }
            out.put(f.getKey().toUpperCase(Locale.ROOT), codes);
        });
        return out;
    }

    private static List<Integer> tones(String source, JsonNode skin) {
        JsonNode tone = skin.get("tone");
        List<Integer> tones = new ArrayList<>();
        if (tone != null && tone.isArray()) {
            tone.forEach(t -> tones.add(t.asInt()));
        } else if (tone != null && tone.isInt()) {
            tones.add(tone.asInt());
        }
        if (tones.isEmpty()) {
            throw new DatasetException(source + ": skin variant " + skin.path("hexcode").asText("?") + " has no tone");
        }
        return tones;
    }

    private static String text(String source, JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual() || value.asText().isEmpty()) {
            throw new DatasetException(source + ": an emoji has no '" + field + "': " + node);
        }
        return value.asText();
    }
}
