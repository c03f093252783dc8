package dev.mdx.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.serve.Browser;
import dev.mdx.testing.Golden;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.text.TokenizedPrompt;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * web/js/tokenizer.js in headless Chromium gives the ids of mdx's ClipTokenizer: on the golden prompts (whose ids
 * the reference CLIPTokenizer wrote) with CLIP's 49,408-token vocabulary, and on edge cases with the bundled emoji
 * model's own 4,096-token vocabulary.
 */
class TokenizerParityTest {
    /** Punctuation, unicode, whitespace, special tokens, weights syntax, an empty prompt and over-long prompts. */
    static final List<String> EDGE_CASES = List.of(
            "", "   ", "a red apple", "A RED Apple!!!", "a,b.c;d:e?!f", "(a red apple:1.3), [green], {blue}",
            "don't stop, it's what we've got", "café crème brûlée naïve", "cafe\u0301 (decomposed)", "ＦＵＬＬ ｗｉｄｔｈ ﬁne",
            "İstanbul ΣΑΣ ß", "東京タワー 漢字 カタカナ", "한국어 Привет мир", "🍎🍏 apple 👍🏽 🇯🇵 👨\u200d👩\u200d👧",
            "tab\there\nnew line\r\nand\u00a0nbsp\u3000ideographic", "zero\u200bwidth soft\u00adhyphen",
            "control\u0007bell", "<|startoftext|>a cat<|endoftext|> and <|endoftext|>more", "1234567890 3.14 ½ ③",
            "email@example.com https://example.org/p?q=1&x=2#f", "C++ C# ~`^|\\/<>",
            "apple ".repeat(100).trim(), "a smiling face with heart eyes and a party hat, ".repeat(10),
            "supercalifragilisticexpialidocious");

    private static StaticServer server;
    private static Browser browser;

    @BeforeAll
    static void open() {
        server = new StaticServer().mount("/", WebFolder.dir())
                .mount("/tokenizers/emoji/", WebFolder.repository().resolve("models/emoji/tokenizer"))
                .file("/blank.html", ("<!doctype html><title>blank</title><link rel=\"icon\" href=\"data:,\">")
                        .getBytes(StandardCharsets.UTF_8));
        Path clip = Golden.sharedTokenizerDir("TokenizerParityTest (CLIP vocabulary)");
        if (clip != null) {
            server.mount("/tokenizers/clip/", clip);
        }
        browser = new Browser(800, 600);
        browser.driver.get(server.url("/blank.html"));
    }

    @AfterAll
    static void close() {
        if (server != null) {
            server.closeWith(browser);
        }
    }

    @Test
    void goldenPromptsGiveTheReferenceIds() {
        Path clip = Golden.sharedTokenizerDir("TokenizerParityTest.goldenPromptsGiveTheReferenceIds");
        if (clip == null) {
            return;
        }
        JsonNode cases = JsonConfig.read(clip.resolve("tokenizer_golden.json")).root().get("cases");
        List<String> texts = new ArrayList<>();
        List<int[]> expected = new ArrayList<>();
        for (JsonNode c : cases) {
            texts.add(c.get("text").asText());
            expected.add(JsonConfig.MAPPER.convertValue(c.get("input_ids"), int[].class));
        }
        assertTrue(texts.size() >= 40, "golden prompts: " + texts.size());
        List<Encoded> js = encodeInBrowser("/tokenizers/clip/", texts);
        ClipTokenizer mdx = ClipTokenizer.load(clip);
        for (int i = 0; i < texts.size(); i++) {
            assertEquals(Arrays.toString(expected.get(i)), Arrays.toString(js.get(i).ids), "golden ids of " + quote(texts.get(i)));
            assertEquals(Arrays.toString(mdx.encode(texts.get(i)).inputIds()), Arrays.toString(js.get(i).ids), "mdx ids");
        }
        assertEdgeCasesMatch(mdx, "/tokenizers/clip/");
    }

    @Test
    void edgeCasesGiveMdxIdsWithTheEmojiVocabulary() {
        ClipTokenizer mdx = ClipTokenizer.load(WebFolder.repository().resolve("models/emoji/tokenizer"));
        assertEdgeCasesMatch(mdx, "/tokenizers/emoji/");
    }

    private static void assertEdgeCasesMatch(ClipTokenizer mdx, String tokenizerUrl) {
        List<Encoded> js = encodeInBrowser(tokenizerUrl, EDGE_CASES);
        int truncated = 0;
        for (int i = 0; i < EDGE_CASES.size(); i++) {
            TokenizedPrompt expected = mdx.encode(EDGE_CASES.get(i));
            String what = tokenizerUrl + " " + quote(EDGE_CASES.get(i));
            assertEquals(77, js.get(i).ids.length, what);
            assertEquals(Arrays.toString(expected.inputIds()), Arrays.toString(js.get(i).ids), what);
            assertEquals(expected.untruncatedLength(), js.get(i).untruncatedLength, what + ": untruncated length");
            truncated += expected.truncated() ? 1 : 0;
        }
        assertTrue(truncated >= 2, "the edge cases include prompts cut to 77 tokens");
        assertEquals(List.of(), browser.consoleErrors());
    }

    private record Encoded(int[] ids, int untruncatedLength) {}

    /** Loads the tokenizer at {@code tokenizerUrl} with web/js/tokenizer.js and encodes every text. */
    @SuppressWarnings("unchecked")
    private static List<Encoded> encodeInBrowser(String tokenizerUrl, List<String> texts) {
        Object result = browser.driver.executeAsyncScript("""
                const [url, texts, done] = arguments;
                import('/js/tokenizer.js')
                  .then(async ({ ClipTokenizer }) => {
                    const tok = await ClipTokenizer.load(new URL(url, location.href));
                    done({ encoded: texts.map((t) => tok.encode(t)) });
                  })
                  .catch((e) => done({ error: String(e && e.stack || e) }));
                """, tokenizerUrl, texts);
        Map<String, Object> map = (Map<String, Object>) result;
        assertNull(map.get("error"), "tokenizer.js failed");
        List<Encoded> out = new ArrayList<>();
        for (Map<String, Object> e : (List<Map<String, Object>>) map.get("encoded")) {
            List<Number> ids = (List<Number>) e.get("inputIds");
            out.add(new Encoded(ids.stream().mapToInt(Number::intValue).toArray(),
                    ((Number) e.get("untruncatedLength")).intValue()));
        }
        assertEquals(texts.size(), out.size());
        return out;
    }

    private static String quote(String text) {
        return "'" + (text.length() > 60 ? text.substring(0, 60) + "…" : text) + "'";
    }
}
