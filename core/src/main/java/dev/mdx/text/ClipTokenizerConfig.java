package dev.mdx.text;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The parts of {@code tokenizer_config.json} / {@code special_tokens_map.json} that change CLIPTokenizer's
 * output. Both files are optional; missing values take CLIPTokenizer's defaults. Added tokens' lstrip/rstrip flags
 * are not kept: CLIP's normalisation drops the whitespace around them anyway.
 *
 * @param bosToken start token, added before the text
 * @param eosToken end token, added after the text (and kept when truncating)
 * @param padToken fills the sequence up to the maximum length ({@code <|endoftext|>} for SD 1.x, "!" for SD 2.x)
 * @param unkToken stands for any symbol missing from the vocabulary
 * @param additionalSpecialTokens further special tokens
 * @param modelMaxLength sequence length including BOS and EOS
 * @param addedTokens tokens with fixed ids that are never split, by id (from {@code added_tokens_decoder})
 * @param cleanUpTokenizationSpaces whether decoding removes spaces before punctuation
 */
public record ClipTokenizerConfig(String bosToken, String eosToken, String padToken, String unkToken,
        List<String> additionalSpecialTokens, int modelMaxLength, Map<Integer, String> addedTokens,
        boolean cleanUpTokenizationSpaces) {

    /** CLIP's text context length; used when the tokenizer config does not state one. */
    public static final int CLIP_CONTEXT_LENGTH = 77;

    public ClipTokenizerConfig {
        additionalSpecialTokens = List.copyOf(additionalSpecialTokens);
        addedTokens = Map.copyOf(addedTokens);
        Stream.concat(Stream.of(bosToken, eosToken, padToken, unkToken),
                Stream.concat(additionalSpecialTokens.stream(), addedTokens.values().stream())).forEach(t -> {
                    if (t == null || t.isEmpty()) {
                        throw new ModelFormatException("tokenizer config: a special or added token is empty");
                    }
                });
        if (modelMaxLength < 2) {
            throw new ModelFormatException("tokenizer config: model_max_length " + modelMaxLength
                    + " leaves no room for the start and end tokens");
        }
    }

    /** CLIPTokenizer's defaults: {@code <|startoftext|>}, and {@code <|endoftext|>} for eos, pad and unk. */
    public static ClipTokenizerConfig defaults() {
        String end = "<|endoftext|>";
        return new ClipTokenizerConfig("<|startoftext|>", end, end, end, List.of(),
                CLIP_CONTEXT_LENGTH, Map.of(), true);
    }

    /**
     * Reads the optional config files of a tokenizer folder. As in transformers, special_tokens_map.json is
     * consulted only when tokenizer_config.json has no {@code added_tokens_decoder}.
     */
    public static ClipTokenizerConfig read(Path tokenizerDir) {
        ClipTokenizerConfig d = defaults();
        Path configFile = tokenizerDir.resolve("tokenizer_config.json");
        Path mapFile = tokenizerDir.resolve("special_tokens_map.json");
        JsonConfig config = Files.isRegularFile(configFile) ? JsonConfig.read(configFile) : null;
        Map<String, JsonNode> special = new LinkedHashMap<>();
        Map<Integer, String> added = new LinkedHashMap<>();
        int maxLength = d.modelMaxLength();
        boolean cleanUp = d.cleanUpTokenizationSpaces();
        if (config != null) {
            for (String key : List.of("bos_token", "eos_token", "pad_token", "unk_token",
                    "additional_special_tokens")) {
                if (config.has(key)) {
                    special.put(key, config.root().get(key));
                }
            }
            added.putAll(readAddedTokens(config));
            maxLength = readMaxLength(config, maxLength);
            cleanUp = config.getBool("clean_up_tokenization_spaces", cleanUp);
        }
        if (added.isEmpty() && Files.isRegularFile(mapFile)) {
            JsonConfig map = JsonConfig.read(mapFile);
            map.root().fields().forEachRemaining(e -> {
                if (!e.getValue().isNull()) {
                    special.put(e.getKey(), e.getValue());
                }
            });
        }
        String source = config != null ? config.source() : tokenizerDir.toString();
        List<String> additional = new ArrayList<>();
        JsonNode extra = special.get("additional_special_tokens");
        if (extra != null) {
            if (!extra.isArray()) {
                throw new ModelFormatException(source + ": field 'additional_special_tokens' must be a list");
            }
            for (JsonNode n : extra) {
                additional.add(token(source, "additional_special_tokens", n));
            }
        }
        return new ClipTokenizerConfig(
                special.containsKey("bos_token") ? token(source, "bos_token", special.get("bos_token")) : d.bosToken(),
                special.containsKey("eos_token") ? token(source, "eos_token", special.get("eos_token")) : d.eosToken(),
                special.containsKey("pad_token") ? token(source, "pad_token", special.get("pad_token")) : d.padToken(),
                special.containsKey("unk_token") ? token(source, "unk_token", special.get("unk_token")) : d.unkToken(),
                additional, maxLength, added, cleanUp);
    }

    /** bos, eos, unk, pad and the additional special tokens, in transformers' order, without repeats. */
    public List<String> specialTokens() {
        List<String> out = new ArrayList<>();
        Stream.concat(Stream.of(bosToken, eosToken, unkToken, padToken), additionalSpecialTokens.stream())
                .filter(t -> !out.contains(t)).forEach(out::add);
        return out;
    }

    private static int readMaxLength(JsonConfig config, int fallback) {
        JsonNode n = config.root().get("model_max_length");
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw config.error("model_max_length", "must be an integer sequence length, got " + n);
        }
        return n.asInt();
    }

    private static Map<Integer, String> readAddedTokens(JsonConfig config) {
        Map<Integer, String> out = new LinkedHashMap<>();
        JsonNode node = config.root().get("added_tokens_decoder");
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isObject()) {
            throw config.error("added_tokens_decoder", "must be an object of id -> token");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException ex) {
                throw config.error("added_tokens_decoder", "has a key '" + e.getKey() + "' that is not an id");
            }
            out.put(id, token(config.source(), "added_tokens_decoder." + e.getKey(), e.getValue()));
        }
        return out;
    }

    /** A token written either as a plain string or as a serialised AddedToken object. */
    private static String token(String source, String field, JsonNode n) {
        if (n.isTextual()) {
            return n.asText();
        }
        if (n.isObject() && n.hasNonNull("content") && n.get("content").isTextual()) {
            return n.get("content").asText();
        }
        throw new ModelFormatException(source + ": field '" + field + "' must be a string or {\"content\": ...}, got "
                + n);
    }
}
