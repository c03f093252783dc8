package dev.mdx.train.clip;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.io.AtomicFiles;
import dev.mdx.io.JsonConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a {@link BpeVocabulary} as the tokenizer folder transformers' CLIPTokenizer.save_pretrained writes and
 * {@link dev.mdx.text.ClipTokenizer#load} reads: {@code vocab.json} (token -> id, keys sorted, two-space indent,
 * non-ASCII kept), {@code merges.txt} ({@code #version: 0.2} then one merge per line in rank order),
 * {@code tokenizer_config.json} and {@code special_tokens_map.json}. BOS is {@code <|startoftext|>}; EOS, padding
 * and unknown are {@code <|endoftext|>}, as in CLIP.
 */
public final class ClipTokenizerFiles {
    public static final String VOCAB = "vocab.json";
    public static final String MERGES = "merges.txt";
    public static final String CONFIG = "tokenizer_config.json";
    public static final String SPECIAL_TOKENS_MAP = "special_tokens_map.json";
    static final String MERGES_HEADER = "#version: 0.2";

    private ClipTokenizerFiles() {}

    public static void write(Path dir, BpeVocabulary vocab, int modelMaxLength) {
        AtomicFiles.writeBytes(dir.resolve(VOCAB), vocabJson(vocab).getBytes(StandardCharsets.UTF_8));
        AtomicFiles.writeBytes(dir.resolve(MERGES), mergesText(vocab).getBytes(StandardCharsets.UTF_8));
        AtomicFiles.writeBytes(dir.resolve(CONFIG), pretty(tokenizerConfig(vocab, modelMaxLength)));
        AtomicFiles.writeBytes(dir.resolve(SPECIAL_TOKENS_MAP), pretty(specialTokensMap()));
    }

    static String vocabJson(BpeVocabulary vocab) {
        Map<String, Integer> sorted = new TreeMap<>(vocab.ids());
        StringBuilder sb = new StringBuilder("{\n");
        int i = 0;
        for (Map.Entry<String, Integer> e : sorted.entrySet()) {
            sb.append("  ").append(quote(e.getKey())).append(": ").append(e.getValue());
            sb.append(++i < sorted.size() ? ",\n" : "\n");
        }
        return sb.append('}').toString();
    }

    static String mergesText(BpeVocabulary vocab) {
        StringBuilder sb = new StringBuilder(MERGES_HEADER).append('\n');
        for (BpeVocabulary.Merge m : vocab.merges()) {
            sb.append(m.left()).append(' ').append(m.right()).append('\n');
        }
        return sb.toString();
    }

    static ObjectNode tokenizerConfig(BpeVocabulary vocab, int modelMaxLength) {
        ObjectNode o = JsonConfig.MAPPER.createObjectNode();
        ObjectNode added = o.putObject("added_tokens_decoder");
        for (String special : new String[] {BpeVocabulary.START_OF_TEXT, BpeVocabulary.END_OF_TEXT}) {
            ObjectNode t = addedToken(special);
            t.put("special", true);
            added.set(Integer.toString(vocab.id(special)), t);
        }
        o.put("bos_token", BpeVocabulary.START_OF_TEXT);
        o.put("clean_up_tokenization_spaces", true);
        o.put("eos_token", BpeVocabulary.END_OF_TEXT);
        o.put("errors", "replace");
        o.put("model_max_length", modelMaxLength);
        o.put("pad_token", BpeVocabulary.END_OF_TEXT);
        o.put("tokenizer_class", "CLIPTokenizer");
        o.put("unk_token", BpeVocabulary.END_OF_TEXT);
        return o;
    }

    static ObjectNode specialTokensMap() {
        ObjectNode o = JsonConfig.MAPPER.createObjectNode();
        o.set("bos_token", addedToken(BpeVocabulary.START_OF_TEXT));
        o.set("eos_token", addedToken(BpeVocabulary.END_OF_TEXT));
        o.put("pad_token", BpeVocabulary.END_OF_TEXT);
        o.set("unk_token", addedToken(BpeVocabulary.END_OF_TEXT));
        return o;
    }

    private static ObjectNode addedToken(String content) {
        ObjectNode t = JsonConfig.MAPPER.createObjectNode();
        t.put("content", content);
        t.put("lstrip", false);
        t.put("normalized", true);
        t.put("rstrip", false);
        t.put("single_word", false);
        return t;
    }

    private static String quote(String s) {
        try {
            return JsonConfig.MAPPER.writeValueAsString(s);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] pretty(ObjectNode node) {
        return (JsonConfig.pretty(node) + "\n").getBytes(StandardCharsets.UTF_8);
    }
}
