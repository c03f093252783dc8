package dev.mdx.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.ModelFormatException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tokenizer on a tiny vocabulary written here, in the same file format as CLIP's. */
class ClipTokenizerTest {
    private static final List<String> TOKENS = List.of(
            "<|startoftext|>", "<|endoftext|>", "l", "o", "w", "e", "r", "n", "!",
            "l</w>", "o</w>", "w</w>", "e</w>", "r</w>", "n</w>", "!</w>",
            "lo", "low</w>", "er</w>", "ne", "new</w>", "Ã", "©</w>", "Ã©</w>", "<|mask|>");
    private static final String MERGES = "#version: 0.2\nl o\nlo w</w>\ne r</w>\nn e\nne w</w>\n\u00c3 \u00a9</w>\n";

    @TempDir
    Path dir;

    private final Map<String, Integer> ids = new LinkedHashMap<>();

    @BeforeEach
    void writeVocab() throws Exception {
        StringBuilder json = new StringBuilder("{");
        for (int i = 0; i < TOKENS.size(); i++) {
            ids.put(TOKENS.get(i), i);
            json.append(i == 0 ? "" : ",").append(JsonConfig.MAPPER.writeValueAsString(TOKENS.get(i))).append(':').append(i);
        }
        Files.writeString(dir.resolve("vocab.json"), json.append('}'), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("merges.txt"), MERGES, StandardCharsets.UTF_8);
    }

    private int id(String token) {
        return ids.get(token);
    }

    @Test
    void mergesByRankWithEndOfWordMarker() {
        ClipTokenizer tok = ClipTokenizer.load(dir);
        assertEquals(6, tok.mergeCount());
        assertEquals(List.of("low</w>", "lo", "w", "er</w>", "new</w>", "!</w>"), tok.tokenize("low lower new!"));
        assertEquals(List.of("low</w>", "lo", "w", "er</w>"), tok.tokenize("  LOW\tLower "), "case and spacing");
        assertEquals(tok.tokenize("low lower"), tok.tokenize("low lower"), "cached result is the same");
    }

    @Test
    void encodesWithBosEosPaddingAndMask() {
        ClipTokenizer tok = ClipTokenizer.load(dir);
        TokenizedPrompt p = tok.encode("new low", 6);
        int end = id("<|endoftext|>");
        assertArrayEquals(new int[] {id("<|startoftext|>"), id("new</w>"), id("low</w>"), end, end, end},
                p.inputIds());
        assertArrayEquals(new int[] {1, 1, 1, 1, 0, 0}, p.attentionMask());
        assertEquals(4, p.untruncatedLength());
        assertFalse(p.truncated());
        assertEquals(77, tok.encode("low").inputIds().length, "CLIP's length without a tokenizer config");
    }

    @Test
    void truncationKeepsEosAndReportsTheFullLength() {
        ClipTokenizer tok = ClipTokenizer.load(dir);
        TokenizedPrompt p = tok.encode("low low new low", 4);
        assertArrayEquals(new int[] {id("<|startoftext|>"), id("low</w>"), id("low</w>"), id("<|endoftext|>")},
                p.inputIds());
        assertArrayEquals(new int[] {1, 1, 1, 1}, p.attentionMask());
        assertEquals(6, p.untruncatedLength());
        assertTrue(p.truncated());
        assertEquals(6, tok.encodeUntruncated("low low new low").length);
    }

    @Test
    void unknownSymbolsGetTheUnkId() {
        ClipTokenizer tok = ClipTokenizer.load(dir);
        List<String> tokens = tok.tokenize("zw");
        assertEquals(List.of("z", "w</w>"), tokens);
        assertArrayEquals(new int[] {id("<|endoftext|>"), id("w</w>")}, tok.convertTokensToIds(tokens));
    }

    @Test
    void decodeRoundTripsThroughTheByteAlphabet() {
        ClipTokenizer tok = ClipTokenizer.load(dir);
        assertEquals(List.of("Ã©</w>"), tok.tokenize("\u00e9"), "é is two UTF-8 bytes, two alphabet characters");
        for (String text : List.of("low lower new!", "\u00e9 low", "")) {
            assertEquals(text, tok.decode(tok.encode(text).inputIds(), true), "round trip of '" + text + "'");
        }
        assertEquals("<|startoftext|>low <|endoftext|>",
                tok.decode(new int[] {id("<|startoftext|>"), id("low</w>"), id("<|endoftext|>")}, false));
    }

    @Test
    void specialAndAddedTokensAreCutOutOfTheRawText() throws Exception {
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 8,"
                + " \"added_tokens_decoder\": {\"24\": {\"content\": \"<|mask|>\", \"lstrip\": true, \"rstrip\": false,"
                + " \"special\": false}, \"0\": {\"content\": \"<|startoftext|>\"}, \"1\": {\"content\": \"<|endoftext|>\"}}}");
        ClipTokenizer tok = ClipTokenizer.load(dir);
        assertEquals(8, tok.maxLength());
        assertEquals(List.of("low</w>", "<|endoftext|>", "new</w>"), tok.tokenize("low<|endoftext|>new"));
        assertEquals(List.of("low</w>", "<|endoftext|>", "new</w>"), tok.tokenize("low<|ENDOFTEXT|>new"),
                "the lower-cased special string is kept whole by CLIP's regex");
        assertEquals(List.of("low</w>", "<|mask|>", "new</w>"), tok.tokenize("low   <|mask|> new"));
        assertEquals("low <|mask|> new", tok.decode(tok.encode("low <|mask|>new").inputIds(), true));
    }

    @Test
    void batchesIntoInt64Ids() {
        ClipTokenizer tok = ClipTokenizer.load(dir);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray batch = ClipTokenizer.inputIds(List.of(tok.encode("low", 5), tok.encode("new new", 5)), manager);
            assertEquals(new Shape(2, 5), batch.getShape());
            assertEquals(DataType.INT64, batch.getDataType());
            assertArrayEquals(tok.encode("new new", 5).inputIdsAsLongs(), batch.get(1).toLongArray());
        }
    }

    @Test
    void badFilesGiveClearErrors() throws Exception {
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\nl o\nl o w\n");
        ModelFormatException merges = assertThrows(ModelFormatException.class, () -> ClipTokenizer.load(dir));
        assertTrue(merges.getMessage().contains("line 3"), merges.getMessage());
        Files.writeString(dir.resolve("merges.txt"), "l o\n");
        assertEquals(1, ClipTokenizer.load(dir).mergeCount(), "a file without the version header keeps its first merge");
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": \"x\"}");
        ModelFormatException vocab = assertThrows(ModelFormatException.class, () -> ClipTokenizer.load(dir));
        assertTrue(vocab.getMessage().contains("'a'"), vocab.getMessage());
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0}");
        ModelFormatException special = assertThrows(ModelFormatException.class, () -> ClipTokenizer.load(dir));
        assertTrue(special.getMessage().contains("<|startoftext|>"), special.getMessage());
        Files.delete(dir.resolve("vocab.json"));
        ModelFormatException missing = assertThrows(ModelFormatException.class, () -> ClipTokenizer.load(dir));
        assertTrue(missing.getMessage().contains("vocab.json"), missing.getMessage());
    }
}
