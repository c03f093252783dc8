package dev.mdx.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.testing.Golden;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of tokenizer/tokenizer_golden.json against the slow transformers CLIPTokenizer's output. The CLIP
 * vocabulary is read from the shared golden folder beside the repository (never copied into it); without it
 * the test is reported as skipped.
 */
class ClipTokenizerGoldenTest {

    @TestFactory
    Stream<DynamicTest> matchesSlowClipTokenizer() {
        Path vocabDir = Golden.sharedTokenizerDir(getClass().getSimpleName());
        Assumptions.assumeTrue(vocabDir != null, "CLIP vocab.json/merges.txt not available: tokenizer parity skipped");
        ClipTokenizer tokenizer = ClipTokenizer.load(vocabDir);
        JsonNode golden = JsonConfig.read(Golden.root().resolve("tokenizer/tokenizer_golden.json")).root();
        checkSpecialTokens(tokenizer, golden.get("special_tokens"));
        List<DynamicTest> tests = new ArrayList<>();
        JsonNode cases = golden.get("cases");
        assertFalse(cases.isEmpty(), "no tokenizer cases");
        for (int i = 0; i < cases.size(); i++) {
            JsonNode c = cases.get(i);
            String text = text(c.get("text_codepoints"));
            String label = i + ": " + abbreviate(text);
            tests.add(DynamicTest.dynamicTest(label, () -> check(tokenizer, c, text, label)));
        }
        return tests.stream();
    }

    private static void checkSpecialTokens(ClipTokenizer tokenizer, JsonNode special) {
        assertEquals(special.get("bos_token_id").asInt(), tokenizer.bosId(), "bos id");
        assertEquals(special.get("eos_token_id").asInt(), tokenizer.eosId(), "eos id");
        assertEquals(special.get("pad_token_id").asInt(), tokenizer.padId(), "pad id");
        assertEquals(special.get("vocab_size").asInt(), tokenizer.vocabSize(), "vocab size");
        assertEquals(special.get("model_max_length").asInt(), tokenizer.maxLength(), "model max length");
    }

    private static void check(ClipTokenizer tokenizer, JsonNode c, String text, String label) {
        List<String> tokens = tokenizer.tokenize(text);
        assertEquals(strings(c.get("tokens")), tokens, label + ": tokens");
        assertArrayEquals(ints(c.get("token_ids")), tokenizer.convertTokensToIds(tokens), label + ": token ids");
        assertArrayEquals(ints(c.get("input_ids_untruncated")), tokenizer.encodeUntruncated(text),
                label + ": untruncated ids");
        TokenizedPrompt prompt = tokenizer.encode(text);
        assertArrayEquals(ints(c.get("input_ids")), prompt.inputIds(), label + ": input ids");
        assertArrayEquals(ints(c.get("attention_mask")), prompt.attentionMask(), label + ": attention mask");
        assertEquals(c.get("num_tokens_untruncated").asInt(), prompt.untruncatedLength(), label + ": untruncated count");
        assertEquals(c.get("truncated").asBoolean(), prompt.truncated(), label + ": truncated");
        assertEquals(c.get("decoded").asText(), tokenizer.decode(prompt.inputIds(), true), label + ": decoded");
    }

    private static String text(JsonNode codepoints) {
        StringBuilder sb = new StringBuilder();
        codepoints.forEach(n -> sb.appendCodePoint(n.asInt()));
        return sb.toString();
    }

    private static String abbreviate(String text) {
        String oneLine = text.replaceAll("\\p{Cntrl}", "?");
        return oneLine.length() > 40 ? oneLine.substring(0, 40) + "..." : oneLine;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
