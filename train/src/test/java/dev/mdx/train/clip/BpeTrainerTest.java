package dev.mdx.train.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.text.ClipPreTokenizer;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.text.TokenizedPrompt;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The BPE trainer and the tokenizer folder it writes, read back by the inference tokenizer. */
class BpeTrainerTest {
    static final List<String> CAPTIONS = List.of(
            "fox, twemoji style", "fox, animal, face, twemoji style", "fox, twemoji emoji",
            "fox, noto style", "dog, noto style", "dog face, openmoji style", "cat, fluent style",
            "waving hand: medium skin tone, noto style", "waving hand: dark skin tone, twemoji style",
            "waving hand, hand, wave, noto emoji", "thumbs up: light skin tone, fluent style",
            "a photo of a sneaker", "a photo of a sandal", "a photo of an ankle boot",
            "a black and white photo of a pair of trousers", "a grayscale image of a t-shirt",
            "A Photo Of A SNEAKER", "red square", "green square", "blue square", "yellow square");

    @TempDir
    Path dir;

    @Test
    void roundTripThroughTheInferenceTokenizer() {
        BpeVocabulary vocab = new BpeTrainer(600, 1).train(CAPTIONS);
        ClipTokenizerFiles.write(dir, vocab, 77);
        ClipTokenizer tok = ClipTokenizer.load(dir);

        assertEquals(vocab.size(), tok.vocabSize());
        assertEquals(vocab.merges().size(), tok.mergeCount());
        assertEquals(vocab.size() - 2, tok.bosId());
        assertEquals(vocab.size() - 1, tok.eosId());
        assertEquals(tok.eosId(), tok.padId());
        assertEquals(77, tok.maxLength());

        // decoding joins words with spaces and removes the space before , . ! ? (CLIP keeps no spacing)
        Map<String, String> expected = Map.of(
                "fox, twemoji style", "fox, twemoji style",
                "A Photo Of A SNEAKER", "a photo of a sneaker",
                "waving hand: medium skin tone, noto style", "waving hand : medium skin tone, noto style",
                "a grayscale image of a t-shirt", "a grayscale image of a t - shirt");
        expected.forEach((text, decoded) -> {
            TokenizedPrompt p = tok.encode(text);
            assertEquals(tok.bosId(), p.inputIds()[0]);
            assertEquals(decoded, tok.decode(p.inputIds(), true), text);
            assertEquals(String.join(" ", ClipPreTokenizer.plainWords(text)),
                    tok.decode(p.inputIds(), true).replace(",", " ,").replace("  ", " "), text);
        });
        for (String caption : CAPTIONS) {
            int[] ids = tok.encodeUntruncated(caption);
            assertEquals(tok.eosId(), ids[ids.length - 1]);
            for (int i = 1; i < ids.length - 1; i++) {
                assertTrue(ids[i] < tok.bosId(), "caption '" + caption + "' has a special id inside");
            }
        }
        // frequent words of the training text became single tokens
        assertEquals(List.of("fox</w>", ",</w>", "twemoji</w>", "style</w>"), tok.tokenize("fox, twemoji style"));
    }

    @Test
    void unseenTextFallsBackToSubwordsAndBytes() {
        BpeVocabulary vocab = new BpeTrainer(600, 1).train(CAPTIONS);
        ClipTokenizerFiles.write(dir, vocab, 77);
        ClipTokenizer tok = ClipTokenizer.load(dir);
        Map<String, Integer> ids = ClipTokenizer.readVocab(dir.resolve(ClipTokenizerFiles.VOCAB));

        String text = "Zebra crossing: qwxyz 42, caf\u00e9 \u2603 \u65e5\u672c \ud83e\udd8a!";
        List<String> tokens = tok.tokenize(text);
        for (String t : tokens) {
            assertTrue(ids.containsKey(t), "token '" + t + "' is not in the vocabulary");
        }
        int[] encoded = tok.encodeUntruncated(text);
        for (int i = 1; i < encoded.length - 1; i++) {
            assertFalse(encoded[i] == tok.eosId() || encoded[i] == tok.bosId(), "an unknown token at " + i);
        }
        assertEquals("zebra crossing : qwxyz 4 2, caf\u00e9 \u2603 \u65e5 \u672c \ud83e\udd8a!",
                tok.decode(encoded, true));
        // merges learned from seen words still apply inside an unseen one
        List<String> unseen = tok.tokenize("grayscales");
        assertTrue(unseen.size() < "grayscales".length(), unseen.toString());
    }

    @Test
    void everyByteSymbolIsInTheVocabulary() {
        BpeVocabulary vocab = new BpeTrainer(BpeTrainer.MIN_VOCAB_SIZE, 1).train(CAPTIONS);
        assertEquals(BpeTrainer.MIN_VOCAB_SIZE, vocab.size());
        assertTrue(vocab.merges().isEmpty());
        List<String> alphabet = ClipPreTokenizer.alphabet();
        assertEquals(256, alphabet.size());
        assertEquals(256, alphabet.stream().distinct().count());
        for (int i = 0; i < 256; i++) {
            assertEquals(alphabet.get(i), vocab.tokens().get(i));
            assertEquals(alphabet.get(i) + "</w>", vocab.tokens().get(256 + i));
        }
        assertEquals("!", vocab.tokens().get(0), "CLIP's vocabulary starts with '!'");
    }

    @Test
    void reachesTheTargetSizeAndStopsAtMinFrequency() {
        BpeVocabulary big = new BpeTrainer(560, 1).train(CAPTIONS);
        assertEquals(560, big.size());
        assertEquals(BpeVocabulary.START_OF_TEXT, big.tokens().get(558));
        assertEquals(BpeVocabulary.END_OF_TEXT, big.tokens().get(559));

        BpeVocabulary frequentOnly = new BpeTrainer(100_000, 3).train(CAPTIONS);
        assertTrue(frequentOnly.size() < 100_000);
        BpeVocabulary all = new BpeTrainer(100_000, 1).train(CAPTIONS);
        assertTrue(all.merges().size() > frequentOnly.merges().size());
        // with min frequency 1 every training word ends as one token
        for (String w : List.of("twemoji</w>", "grayscale</w>", "trousers</w>")) {
            assertTrue(all.tokens().contains(w), w);
        }
        assertFalse(frequentOnly.tokens().contains("grayscale</w>"));
        assertTrue(frequentOnly.tokens().contains("style</w>"));
        // the first merge is the most frequent pair of byte symbols, counted here independently
        Map<String, Integer> pairs = new java.util.TreeMap<>();
        for (String caption : CAPTIONS) {
            for (String w : ClipPreTokenizer.words(caption)) {
                for (int i = 0; i + 1 < w.length(); i++) {
                    String right = w.charAt(i + 1) + (i + 2 == w.length() ? "</w>" : "");
                    pairs.merge(w.charAt(i) + " " + right, 1, Integer::sum);
                }
            }
        }
        int max = Collections.max(pairs.values());
        String first = pairs.entrySet().stream().filter(e -> e.getValue() == max).findFirst().orElseThrow().getKey();
        BpeVocabulary.Merge m = all.merges().get(0);
        assertEquals(first, m.left() + " " + m.right(), "counts " + max);
    }

    @Test
    void deterministicAndIndependentOfInputOrder() throws Exception {
        List<String> shuffled = new ArrayList<>(CAPTIONS);
        Collections.shuffle(shuffled, new Random(3));
        BpeVocabulary a = new BpeTrainer(700, 1).train(CAPTIONS);
        BpeVocabulary b = new BpeTrainer(700, 1).train(shuffled);
        assertEquals(a, b);
        Path da = dir.resolve("a");
        Path db = dir.resolve("b");
        ClipTokenizerFiles.write(da, a, 77);
        ClipTokenizerFiles.write(db, b, 77);
        for (String f : List.of(ClipTokenizerFiles.VOCAB, ClipTokenizerFiles.MERGES, ClipTokenizerFiles.CONFIG,
                ClipTokenizerFiles.SPECIAL_TOKENS_MAP)) {
            assertArrayEquals(Files.readAllBytes(da.resolve(f)), Files.readAllBytes(db.resolve(f)), f);
        }
        List<String> merges = Files.readAllLines(da.resolve(ClipTokenizerFiles.MERGES));
        assertEquals("#version: 0.2", merges.get(0));
        assertEquals(a.merges().size() + 1, merges.size());
    }

    @Test
    void rejectsImpossibleSettings() {
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainer(BpeTrainer.MIN_VOCAB_SIZE - 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainer(1000, 0));
    }
}
