package dev.mdx.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * transformers' slow CLIPTokenizer without ftfy, from {@code vocab.json} and {@code merges.txt} of any size:
 * special tokens are cut out of the raw text first; the rest is pre-tokenised ({@link ClipPreTokenizer}: normalised,
 * split by CLIP's regex, UTF-8 encoded into the byte alphabet) and BPE-merged; then BOS + ids + EOS, truncated to the
 * model length keeping EOS, padded with the pad id.
 */
public final class ClipTokenizer {
    private static final List<String> VERBATIM_WORDS = List.of("<|startoftext|>", "<|endoftext|>");

    /** transformers' clean_up_tokenization replacements, in order. */
    private static final String[][] CLEAN_UP = {
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"}, {" 'm", "'m"},
        {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};

    private final Map<String, Integer> vocab;
    private final Map<Integer, String> idToToken;
    private final BytePairEncoder bpe;
    private final ClipTokenizerConfig config;
    /** Tokens cut out of the raw text, longest first so that the longest match wins at a position. */
    private final List<String> unsplittable;
    private final Map<String, Integer> addedTokenIds;
    private final Set<Integer> specialIds;
    private final Set<String> specialTokens;
    private final int bosId;
    private final int eosId;
    private final int padId;

    public ClipTokenizer(Map<String, Integer> vocab, Map<String, Integer> mergeRanks, ClipTokenizerConfig config) {
        if (vocab.isEmpty()) {
            throw new ModelFormatException("tokenizer vocabulary is empty");
        }
        this.vocab = Map.copyOf(vocab);
        this.config = config;
        this.bpe = new BytePairEncoder(mergeRanks, VERBATIM_WORDS);
        this.idToToken = new HashMap<>(vocab.size() * 2);
        vocab.forEach((token, id) -> idToToken.put(id, token));
        this.addedTokenIds = new HashMap<>();
        config.addedTokens().forEach((id, token) -> {
            addedTokenIds.put(token, id);
            idToToken.put(id, token);
        });
        Set<String> cut = new HashSet<>(config.specialTokens());
        cut.addAll(config.addedTokens().values());
        this.unsplittable = cut.stream().sorted(Comparator.comparingInt(String::length).reversed()).toList();
        this.specialTokens = new HashSet<>(config.specialTokens());
        this.specialIds = new HashSet<>();
        for (String s : config.specialTokens()) {
            specialIds.add(requireId(s));
        }
        this.bosId = requireId(config.bosToken());
        this.eosId = requireId(config.eosToken());
        this.padId = requireId(config.padToken());
    }

    /** Loads {@code vocab.json}, {@code merges.txt} and the optional config files of a tokenizer folder. */
    public static ClipTokenizer load(Path tokenizerDir) {
        return new ClipTokenizer(readVocab(tokenizerDir.resolve("vocab.json")),
                BytePairEncoder.readMerges(tokenizerDir.resolve("merges.txt")), ClipTokenizerConfig.read(tokenizerDir));
    }

    /** Streams vocab.json (token -> id), so vocabularies of any size load without building a JSON tree. */
    public static Map<String, Integer> readVocab(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(file + ": file not found");
        }
        Map<String, Integer> vocab = new HashMap<>();
        try (JsonParser p = JsonConfig.MAPPER.getFactory().createParser(file.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new ModelFormatException(file + ": expected a JSON object of token -> id");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String token = p.currentName();
                if (p.nextToken() != JsonToken.VALUE_NUMBER_INT || !p.getNumberType().equals(JsonParser.NumberType.INT)
                        || p.getIntValue() < 0) {
                    throw new ModelFormatException(file + ": the id of token '" + token
                            + "' is not a non-negative integer");
                }
                vocab.put(token, p.getIntValue());
            }
        } catch (IOException e) {
            throw new ModelFormatException(file + ": not valid JSON (" + e.getMessage() + ")", e);
        }
        return vocab;
    }

    public ClipTokenizerConfig config() {
        return config;
    }

    public int vocabSize() {
        return vocab.size();
    }

    /** The largest id this tokenizer can produce (of the vocabulary and the added tokens). */
    public int maxId() {
        return idToToken.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
    }

    public int mergeCount() {
        return bpe.mergeCount();
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    public int maxLength() {
        return config.modelMaxLength();
    }

    /** The BPE symbols of {@code text} (transformers' {@code tokenize}), without BOS/EOS. */
    public List<String> tokenize(String text) {
        List<String> out = new ArrayList<>();
        for (Piece piece : splitOnAddedTokens(text)) {
            if (piece.addedToken()) {
                out.add(piece.text());
                continue;
            }
            for (String word : ClipPreTokenizer.words(piece.text())) {
                out.addAll(bpe.encode(word));
            }
        }
        return out;
    }

    /** Ids of tokens; a token outside the vocabulary gets the unk id. */
    public int[] convertTokensToIds(List<String> tokens) {
        int unk = requireId(config.unkToken());
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = idOf(tokens.get(i));
            ids[i] = id != null ? id : unk;
        }
        return ids;
    }

    /** BOS + ids + EOS without truncation or padding; its length is what the prompt needs. */
    public int[] encodeUntruncated(String text) {
        int[] ids = convertTokensToIds(tokenize(text));
        int[] out = new int[ids.length + 2];
        out[0] = bosId;
        System.arraycopy(ids, 0, out, 1, ids.length);
        out[out.length - 1] = eosId;
        return out;
    }

    /** The prompt at the model length ({@code padding='max_length', truncation=True}). */
    public TokenizedPrompt encode(String text) {
        return encode(text, config.modelMaxLength());
    }

    /** The prompt at {@code maxLength}: BOS, the first maxLength - 2 tokens, EOS, then padding. */
    public TokenizedPrompt encode(String text, int maxLength) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("max length " + maxLength + " leaves no room for BOS and EOS");
        }
        int[] ids = convertTokensToIds(tokenize(text));
        int kept = Math.min(ids.length, maxLength - 2);
        int[] inputIds = new int[maxLength];
        int[] mask = new int[maxLength];
        Arrays.fill(inputIds, padId);
        inputIds[0] = bosId;
        System.arraycopy(ids, 0, inputIds, 1, kept);
        inputIds[kept + 1] = eosId;
        Arrays.fill(mask, 0, kept + 2, 1);
        return new TokenizedPrompt(inputIds, mask, ids.length + 2);
    }

    /** (B, L) int64 ids of several prompts, in {@code manager}. */
    public static NDArray inputIds(List<TokenizedPrompt> prompts, NDManager manager) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("no prompts");
        }
        int length = prompts.get(0).inputIds().length;
        long[] flat = new long[prompts.size() * length];
        for (int b = 0; b < prompts.size(); b++) {
            long[] row = prompts.get(b).inputIdsAsLongs();
            if (row.length != length) {
                throw new IllegalArgumentException("prompts were encoded to different lengths");
            }
            System.arraycopy(row, 0, flat, b * length, length);
        }
        return manager.create(flat, new Shape(prompts.size(), length));
    }

    /**
     * Text of ids as transformers' {@code decode}: tokens joined, bytes decoded as UTF-8 (invalid bytes become
     * U+FFFD), each {@code </w>} a space, stripped, then (if configured) spaces before punctuation removed.
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> parts = new ArrayList<>();
        List<String> current = new ArrayList<>();
        for (int id : ids) {
            if (skipSpecialTokens && specialIds.contains(id)) {
                continue;
            }
            String token = idToToken.get(id);
            if (token == null) {
                throw new IllegalArgumentException("id " + id + " is not in the vocabulary");
            }
            if (addedTokenIds.containsKey(token) && !specialTokens.contains(token)) {
                if (!current.isEmpty()) {
                    parts.add(tokensToString(current));
                    current.clear();
                }
                parts.add(token);
            } else {
                current.add(token);
            }
        }
        if (!current.isEmpty()) {
            parts.add(tokensToString(current));
        }
        String text = String.join(" ", parts);
        if (config.cleanUpTokenizationSpaces()) {
            for (String[] r : CLEAN_UP) {
                text = text.replace(r[0], r[1]);
            }
        }
        return text;
    }

    private static String tokensToString(List<String> tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String t : tokens) {
            ByteLevelAlphabet.decodeInto(t, bytes);
        }
        String text = new String(bytes.toByteArray(), StandardCharsets.UTF_8);
        return PythonText.strip(text.replace(BytePairEncoder.END_OF_WORD, " "));
    }

    /** A stretch of raw text, or one added/special token cut out of it. */
    private record Piece(String text, boolean addedToken) {}

    /** Splits out every added or special token, matched exactly in the raw text: leftmost, then longest. */
    private List<Piece> splitOnAddedTokens(String text) {
        List<Piece> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < text.length()) {
            String hit = null;
            for (String t : unsplittable) {
                if (text.startsWith(t, i)) {
                    hit = t;
                    break;
                }
            }
            if (hit == null) {
                i++;
                continue;
            }
            if (i > start) {
                out.add(new Piece(text.substring(start, i), false));
            }
            out.add(new Piece(hit, true));
            i += hit.length();
            start = i;
        }
        if (start < text.length()) {
            out.add(new Piece(text.substring(start), false));
        }
        return out;
    }

    private Integer idOf(String token) {
        Integer added = addedTokenIds.get(token);
        return added != null ? added : vocab.get(token);
    }

    private int requireId(String token) {
        Integer id = idOf(token);
        if (id == null) {
            throw new ModelFormatException("tokenizer: special token '" + token
                    + "' is neither in vocab.json nor in added_tokens_decoder");
        }
        return id;
    }
}
