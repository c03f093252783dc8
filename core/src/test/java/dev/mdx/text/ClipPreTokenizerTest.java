package dev.mdx.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.mdx.io.JsonConfig;
import dev.mdx.testing.Golden;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The public pre-tokenisation that BPE training shares with the tokenizer, and the text config writer. */
class ClipPreTokenizerTest {
    @Test
    void wordsAreNormalisedSplitAndByteEncoded() {
        assertEquals(List.of("waving", "hand", ":", "medium", "skin", "tone", ",", "noto", "style"),
                ClipPreTokenizer.plainWords("Waving  Hand: medium skin tone, NOTO style"));
        // a space never survives; the two bytes of e-acute are two alphabet characters
        assertEquals(List.of("caf\u00c3\u00a9", "4", "2"), ClipPreTokenizer.words("Caf\u00e9 42"));
    }

    @Test
    void alphabetIsTheFirst256IdsOfClipsVocabulary() {
        Path dir = Golden.sharedTokenizerDir("ClipPreTokenizerTest.alphabetIsTheFirst256IdsOfClipsVocabulary");
        Assumptions.assumeTrue(dir != null);
        Map<String, Integer> vocab = ClipTokenizer.readVocab(dir.resolve("vocab.json"));
        List<String> alphabet = ClipPreTokenizer.alphabet();
        assertEquals(256, alphabet.size());
        for (int i = 0; i < 256; i++) {
            assertEquals(i, vocab.get(alphabet.get(i)), "symbol " + alphabet.get(i));
            assertEquals(256 + i, vocab.get(alphabet.get(i) + ClipPreTokenizer.END_OF_WORD));
        }
    }

    @Test
    void textConfigWritesWhatItReads() {
        Path dir = Golden.componentDirs("CLIPTextModel").get(0);
        ClipTextConfig golden = ClipTextConfig.read(dir.resolve("config.json"));
        JsonConfig written = new JsonConfig("written", golden.toJsonNode());
        assertEquals(golden, ClipTextConfig.from(written));
        assertNotNull(written.root().get("architectures"));
        assertEquals(JsonConfig.read(dir.resolve("config.json")).root().get("hidden_act"),
                written.root().get("hidden_act"));
    }
}
