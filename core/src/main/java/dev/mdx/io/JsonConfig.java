package dev.mdx.io;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Pattern;

/** Typed access to a config.json with errors that name the file and the field. */
public final class JsonConfig {
    /** Refuses text after the JSON value, as Python's json.load does ("Extra data"). */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final String source;
    private final JsonNode root;

    public JsonConfig(String source, JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(source + ": not a JSON object");
        }
        this.source = source;
        this.root = root;
    }

    public static JsonConfig read(Path file) {
        return new JsonConfig(file.toString(), readTree(file, MAPPER));
    }

    /**
     * A file's JSON tree read by {@code mapper}; a failure names the file and says what is wrong in one line (for
     * a syntax error, the line, column and problem; never Jackson's source description).
     */
    public static JsonNode readTree(Path file, ObjectMapper mapper) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file + ": file not found");
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
        try {
            return mapper.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(file + ": " + describe(e), e);
        }
    }

    public static JsonConfig parse(String source, String json) {
        try {
            return new JsonConfig(source, MAPPER.readTree(json));
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(source + ": " + describe(e), e);
        }
    }

    /** Jackson's "[Source: ...; line: 3, column: 7]" location, also nested inside some of its messages. */
    private static final Pattern JACKSON_LOCATION = Pattern.compile("\\[Source: .*?; line: (\\d+), column: (\\d+)\\]");

    /**
     * "not valid JSON at line L, column C: problem" for a JSON syntax error ("unexpected JSON at line ..." for JSON
     * of the wrong shape): Jackson's own message minus the source description it appends (which says "REDACTED" and
     * names a Jackson feature).
     */
    public static String describe(JsonProcessingException e) {
        return describe(e, 1);
    }

    /** {@link #describe(JsonProcessingException)} for text that starts on line {@code firstLine} of its file. */
    public static String describe(JsonProcessingException e, int firstLine) {
        String original = String.valueOf(e.getOriginalMessage());
        // FAIL_ON_TRAILING_TOKENS's message names Jackson classes and features
        boolean trailing = original.startsWith("Trailing token");
        String problem = trailing ? "more text after the end of the JSON value"
                : JACKSON_LOCATION.matcher(original).replaceAll("line $1, column $2").replaceAll("\\s+", " ").trim();
        String what = e instanceof JsonParseException || trailing ? "not valid JSON" : "unexpected JSON";
        JsonLocation at = e.getLocation();
        if (at == null || at.getLineNr() < 1) {
            return what + ": " + problem;
        }
        return what + " at line " + (firstLine - 1 + at.getLineNr()) + ", column " + at.getColumnNr() + ": " + problem;
    }

    /** Pretty-printed JSON text of a tree or bean held in memory, where serialising cannot fail. */
    public static String pretty(Object value) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    /** {@code "key": [values...]} in {@code o}. */
    public static void putInts(ObjectNode o, String key, List<Integer> values) {
        ArrayNode a = o.putArray(key);
        values.forEach(a::add);
    }

    public JsonNode root() {
        return root;
    }

    public ObjectNode copyRoot() {
        return ((ObjectNode) root).deepCopy();
    }

    public String source() {
        return source;
    }

    public boolean has(String key) {
        return root.hasNonNull(key);
    }

    /** Fails naming every field of this object not in {@code known}, so a typo never falls back to a default. */
    public void rejectUnknown(Collection<String> known) {
        List<String> unknown = new ArrayList<>();
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) {
                unknown.add(k);
            }
        }
        if (!unknown.isEmpty()) {
            throw new ModelFormatException(source + ": unknown field" + (unknown.size() > 1 ? "s " : " ")
                    + String.join(", ", unknown) + " (known: " + String.join(", ", known.stream().sorted().toList())
                    + ")");
        }
    }

    /** The object at {@code key} as a config of its own; an absent optional section is an empty object. */
    public JsonConfig section(String key, boolean required) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            if (required) {
                throw error(key, "is missing");
            }
            return new JsonConfig(source + ": section '" + key + "'", MAPPER.createObjectNode());
        }
        if (!n.isObject()) {
            throw error(key, "must be an object, got " + n);
        }
        return new JsonConfig(source + ": section '" + key + "'", n);
    }

    /** An int that must be >= 0. */
    public int getNonNegativeInt(String key, int fallback) {
        int v = getInt(key, fallback);
        if (v < 0) {
            throw error(key, "must be >= 0, got " + v);
        }
        return v;
    }

    public ModelFormatException error(String key, String problem) {
        return new ModelFormatException(source + ": field '" + key + "' " + problem);
    }

    public int getInt(String key, int fallback) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isIntegralNumber()) {
            throw error(key, "must be an integer, got " + n);
        }
        if (!n.canConvertToInt()) {
            throw error(key, "is out of range, got " + n);
        }
        return n.asInt();
    }

    public int requireInt(String key) {
        if (!has(key)) {
            throw error(key, "is missing");
        }
        return getInt(key, 0);
    }

    public double getDouble(String key, double fallback) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isNumber()) {
            throw error(key, "must be a number, got " + n);
        }
        return n.asDouble();
    }

    public boolean getBool(String key, boolean fallback) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isBoolean()) {
            throw error(key, "must be true or false, got " + n);
        }
        return n.asBoolean();
    }

    public String getString(String key, String fallback) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isTextual()) {
            throw error(key, "must be a string, got " + n);
        }
        return n.asText();
    }

    public List<String> getStrings(String key, List<String> fallback) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isArray()) {
            throw error(key, "must be a list of strings, got " + n);
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw error(key, "must be a list of strings, got " + n);
            }
            out.add(e.asText());
        }
        return out;
    }

    /** An int or a list of ints, expanded to {@code count} entries; an int is repeated. */
    public int[] getIntPerEntry(String key, int count, Integer fallback) {
        JsonNode n = root.get(key);
        int[] out = new int[count];
        if (n == null || n.isNull()) {
            if (fallback == null) {
                throw error(key, "is missing");
            }
            java.util.Arrays.fill(out, fallback);
            return out;
        }
        if (n.isIntegralNumber()) {
            java.util.Arrays.fill(out, n.asInt());
            return out;
        }
        if (!n.isArray() || n.size() != count) {
            throw error(key, "must be an integer or a list of " + count + " integers, got " + n);
        }
        for (int i = 0; i < count; i++) {
            if (!n.get(i).isIntegralNumber()) {
                throw error(key, "must be an integer or a list of " + count + " integers, got " + n);
            }
            out[i] = n.get(i).asInt();
        }
        return out;
    }

    public int[] getInts(String key, int[] fallback) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            if (fallback == null) {
                throw error(key, "is missing");
            }
            return fallback;
        }
        if (!n.isArray()) {
            throw error(key, "must be a list of integers, got " + n);
        }
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) {
            if (!n.get(i).isIntegralNumber()) {
                throw error(key, "must be a list of integers, got " + n);
            }
            out[i] = n.get(i).asInt();
        }
        return out;
    }
}
