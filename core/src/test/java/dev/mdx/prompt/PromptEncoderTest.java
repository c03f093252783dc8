package dev.mdx.prompt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.nn.Parameter;
import dev.mdx.testing.Golden;
import dev.mdx.testing.TestModels;
import dev.mdx.text.ClipTextConfig;
import dev.mdx.text.ClipTextModel;
import dev.mdx.text.ClipTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Long prompts, attention weights, textual-inversion embeddings and clip skip on the golden text encoder (3 layers,
 * width 32, length 77), each against a plain reference: the tokenizer path the pipeline used before, hand-computed
 * A1111 emphasis, a token table extended by hand, and the final layer norm applied by hand.
 */
class PromptEncoderTest {
    private static NDManager manager;
    private static ClipTextModel encoder;
    private static Path textEncoderDir;
    private static ClipTokenizer tokenizer;
    private static Path tokenizerDir;

    @BeforeAll
    static void load() throws Exception {
        manager = NDManager.newBaseManager();
        textEncoderDir = Golden.pipelineComponent("text_encoder");
        encoder = ClipTextModel.load(textEncoderDir, manager);
        tokenizerDir = Files.createTempDirectory("mdx-prompt-tok");
        TestModels.tinyTokenizer(tokenizerDir);
        // the tiny tokenizer with a comma, for A1111's comma backtrack
        String vocab = Files.readString(tokenizerDir.resolve("vocab.json"));
        Files.writeString(tokenizerDir.resolve("vocab.json"), vocab.substring(0, vocab.length() - 1)
                + ", \",</w>\": 300}");
        tokenizer = ClipTokenizer.load(tokenizerDir);
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private static PromptChunker chunker(Path embeddings) {
        return new PromptChunker(tokenizer, 77, encoder.config().hiddenSize(),
                embeddings == null ? EmbeddingLibrary.NONE : new EmbeddingLibrary(embeddings));
    }

    private static float[] encode(List<ChunkedPrompt> rows, int clipSkip) {
        try (NDManager scope = manager.newSubManager()) {
            return PromptEncoder.encode(encoder, rows, clipSkip, scope).toFloatArray();
        }
    }

    /** What the pipeline computed before: the tokenizer's ids at 77, forward, last_hidden_state. */
    private static float[] plainPath(String... prompts) {
        try (NDManager scope = manager.newSubManager()) {
            List<dev.mdx.text.TokenizedPrompt> rows = Arrays.stream(prompts).map(tokenizer::encode).toList();
            return encoder.forward(ClipTokenizer.inputIds(rows, scope)).lastHiddenState().toFloatArray();
        }
    }

    private static float[] forwardIds(int[] ids) {
        try (NDManager scope = manager.newSubManager()) {
            long[] l = Arrays.stream(ids).asLongStream().toArray();
            return encoder.forward(scope.create(l, new Shape(1, ids.length))).lastHiddenState().toFloatArray();
        }
    }

    private static String letters(int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            s.append((char) ('a' + i % 26));
            s.append(i % 5 == 4 ? " " : "");
        }
        return s.toString().trim();
    }

    @Test
    void plainPromptsAreBitIdenticalToTheTokenizerPath() {
        PromptChunker c = chunker(null);
        for (String p : List.of("a red apple", "", letters(75))) {
            assertArrayEquals(plainPath(p), encode(List.of(c.chunk(p)), 1), "'" + p + "'");
        }
        // [negative, prompt] in one batch, as the pipeline encodes them
        assertArrayEquals(plainPath("blurry", "a red apple"),
                encode(List.of(c.chunk("blurry"), c.chunk("a red apple")), 1));
    }

    @Test
    void weightOneIsNoWeight() {
        PromptChunker c = chunker(null);
        assertArrayEquals(encode(List.of(c.chunk("a red apple")), 1), encode(List.of(c.chunk("a (red:1.0) apple")), 1));
        assertArrayEquals(plainPath("a red apple"), encode(List.of(c.chunk("(a red apple:1)")), 1));
    }

    @Test
    void weightsAreA1111sEmphasisComputedByHand() {
        ChunkedPrompt p = chunker(null).chunk("a (red:1.5) [apple]");
        int[] ids = p.idsOf(0);
        // BOS, a</w>, r e d</w>, a p p l e</w>, EOS, padding
        float[] w = new float[77];
        Arrays.fill(w, 1f);
        Arrays.fill(w, 2, 5, 1.5f);
        Arrays.fill(w, 5, 10, (float) (1 / 1.1));
        assertArrayEquals(w, p.weightsOf(0));
        assertArrayEquals(tokenizer.encode("a red apple").inputIds(), ids, "fragments tokenize as the whole");
        float[] z = forwardIds(ids);
        int d = encoder.config().hiddenSize();
        double before = 0;
        double after = 0;
        double[] zw = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            zw[i] = z[i] * (double) w[i / d];
            before += z[i];
            after += zw[i];
        }
        float[] expected = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            expected[i] = (float) (zw[i] * (before / after));
        }
        assertClose(expected, encode(List.of(p), 1), 1e-5, "weighted conditioning");
        double mean = Arrays.stream(box(encode(List.of(p), 1))).sum() / z.length;
        assertEquals(before / z.length, mean, 1e-6, "the mean is kept");
    }

    @Test
    void aZeroMeanConditioningIsWeightedWithoutTheRescaleThatWouldBlowItUp() {
        ChunkedPrompt p = chunker(null).chunk("a (red:1.5) apple");
        int d = 4;
        float[] z = new float[77 * d];
        for (int i = 0; i < z.length; i++) {
            z[i] = i % 2 == 0 ? 1f : -1f;
        }
        try (NDManager scope = manager.newSubManager()) {
            float[] out = PromptEncoder.emphasis(scope.create(z, new Shape(1, 77, d)), List.of(p), 0, scope)
                    .toFloatArray();
            for (int i = 0; i < z.length; i++) {
                assertEquals(z[i] * p.weightsOf(0)[i / d], out[i], 1e-6, "z * w at " + i);
            }
        }
    }

    @Test
    void longPromptsAreEncodedInChunksOf75() {
        String text = letters(100);
        ChunkedPrompt p = chunker(null).chunk(text);
        assertEquals(2, p.chunkCount());
        assertEquals(100, p.tokens());
        int[] all = tokenizer.encodeUntruncated(text);
        int[] first = Arrays.copyOf(Arrays.copyOfRange(all, 0, 76), 77);
        first[76] = tokenizer.eosId();
        int[] second = new int[77];
        Arrays.fill(second, tokenizer.padId());
        second[0] = tokenizer.bosId();
        System.arraycopy(all, 76, second, 1, all.length - 76);
        assertArrayEquals(first, p.idsOf(0));
        assertArrayEquals(second, p.idsOf(1));
        float[] z = encode(List.of(p), 1);
        float[] expected = concat(forwardIds(first), forwardIds(second));
        assertArrayEquals(expected, z, "each chunk encoded alone, concatenated along the sequence");
    }

    @Test
    void shortPromptInTheChunkedPathEqualsThePlainPath() {
        // 75 tokens are one chunk; padding a prompt with empty chunks (as for a longer negative) keeps its first chunk
        ChunkedPrompt p = chunker(null).chunk(letters(75));
        assertEquals(1, p.chunkCount());
        ChunkedPrompt padded = p.padTo(3, chunker(null).chunk(""));
        float[] z = encode(List.of(padded), 1);
        assertArrayEquals(concat(plainPath(letters(75)), plainPath(""), plainPath("")), z);
    }

    @Test
    void commaBacktrackMovesTheWordsAfterTheLastCommaToTheNextChunk() {
        // 70 letters, a comma, then 10 more: the chunk fills at 75 with the comma 4 tokens back
        String text = letters(70) + ", " + "abcdefghij";
        ChunkedPrompt p = chunker(null).chunk(text);
        assertEquals(2, p.chunkCount());
        int[] ids = p.idsOf(0);
        assertEquals(300, ids[71], "the comma ends the first chunk");
        assertEquals(tokenizer.eosId(), ids[72]);
        assertEquals(tokenizer.bosId(), p.idsOf(1)[0]);
        assertEquals(tokenizer.eosId(), p.idsOf(1)[11], "the 10 letters after the comma open the second chunk");
    }

    @Test
    void breakStartsANewChunk() {
        ChunkedPrompt p = chunker(null).chunk("abc BREAK de");
        assertEquals(2, p.chunkCount());
        assertArrayEquals(tokenizer.encode("abc").inputIds(), p.idsOf(0));
        assertArrayEquals(tokenizer.encode("de").inputIds(), p.idsOf(1));
    }

    @Test
    void anEmbeddingEqualsAHandExtendedTokenTable(@TempDir Path dir) throws Exception {
        int d = encoder.config().hiddenSize();
        float[][] v = randomVectors(2, d, 7);
        writeA1111(dir.resolve("zq.safetensors"), v);
        ChunkedPrompt p = chunker(dir).chunk("a zq b");
        assertEquals(List.of("zq"), p.embeddings());
        assertEquals(4, p.tokens(), "two vectors take two token slots");

        ClipTextConfig c = encoder.config();
        int vocab = c.vocabSize();
        ClipTextModel extended = new ClipTextModel(new ClipTextConfig(vocab + 2, c.hiddenSize(), c.intermediateSize(),
                c.numHiddenLayers(), c.numAttentionHeads(), c.maxPositionEmbeddings(), c.hiddenAct(), c.layerNormEps(),
                c.bosTokenId(), c.eosTokenId(), c.padTokenId(), c.projectionDim()));
        Map<String, Parameter> from = encoder.namedParameters();
        for (Map.Entry<String, Parameter> e : extended.namedParameters().entrySet()) {
            NDArray value = from.get(e.getKey()).get();
            if (e.getKey().endsWith("token_embedding.weight")) {
                value = value.concat(manager.create(flat(v), new Shape(2, d)), 0);
            }
            e.getValue().set(value);
        }
        int[] ids = tokenizer.encode("a").inputIds();
        // BOS a</w> [V V+1] b</w> EOS pad...
        int[] handIds = new int[77];
        Arrays.fill(handIds, tokenizer.padId());
        handIds[0] = tokenizer.bosId();
        handIds[1] = ids[1];
        handIds[2] = vocab;
        handIds[3] = vocab + 1;
        handIds[4] = tokenizer.encode("b").inputIds()[1];
        handIds[5] = tokenizer.eosId();
        float[] expected;
        try (NDManager scope = manager.newSubManager()) {
            long[] l = Arrays.stream(handIds).asLongStream().toArray();
            expected = extended.forward(scope.create(l, new Shape(1, 77))).lastHiddenState().toFloatArray();
        }
        assertArrayEquals(expected, encode(List.of(p), 1));
    }

    @Test
    void diffusersLearnedEmbedsAreNamedByTheirFile(@TempDir Path dir) throws Exception {
        int d = encoder.config().hiddenSize();
        float[][] v = randomVectors(1, d, 8);
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> t = new LinkedHashMap<>();
            t.put("<cat-toy>", m.create(v[0]));
            SafeTensorsWriter.write(dir.resolve("toy.safetensors"), t, Map.of());
        }
        ChunkedPrompt p = chunker(dir).chunk("a toy");
        assertEquals(List.of("toy"), p.embeddings());
        assertArrayEquals(v[0], p.vectorsOf(0)[2]);
        assertEquals(2, p.tokens());
    }

    @Test
    void unusableEmbeddingsAreOneClearError(@TempDir Path dir) throws Exception {
        writeA1111(dir.resolve("wide.safetensors"), randomVectors(1, 768, 1));
        Files.write(dir.resolve("old.pt"), new byte[] {(byte) 0x80, 2, 3, 4});
        try (NDManager m = NDManager.newBaseManager()) {
            SafeTensorsWriter.write(dir.resolve("xl.safetensors"), Map.of("clip_l", m.create(new float[768]),
                    "clip_g", m.create(new float[1280])), Map.of());
        }
        writeA1111(dir.resolve("long.safetensors"), randomVectors(76, 32, 2));
        PromptChunker c = chunker(dir);
        assertMessage(() -> c.chunk("a wide"), "768 values", "takes 32");
        assertMessage(() -> c.chunk("a old"), "pickled", ".safetensors");
        assertMessage(dev.mdx.MdxException.class, () -> c.chunk("a xl"), "SDXL");
        assertMessage(() -> c.chunk("a long"), "76 vectors", "at most 75");
        // names that do not occur are never read
        assertEquals(1, c.chunk("a cat").chunkCount());
        EmbeddingLibrary.Listing listing = new EmbeddingLibrary(dir).list(32);
        assertEquals(List.of("long"), listing.usable().stream().map(TextualInversion::name).toList());
        assertEquals(List.of("old", "wide", "xl"), new ArrayList<>(listing.skipped().keySet()));
    }

    @Test
    void clipSkipTwoIsThePenultimateLayerThroughTheFinalNormByHand() throws Exception {
        ChunkedPrompt p = chunker(null).chunk("a red apple");
        int layers = encoder.config().numHiddenLayers();
        float[] penultimate;
        try (NDManager scope = manager.newSubManager()) {
            long[] l = Arrays.stream(p.idsOf(0)).asLongStream().toArray();
            penultimate = encoder.forward(scope.create(l, new Shape(1, 77))).hiddenStates().get(layers - 1)
                    .toFloatArray();
        }
        float[] gamma;
        float[] beta;
        try (SafeTensorsFile st = SafeTensorsFile.open(textEncoderDir.resolve("model.safetensors"));
                NDManager scope = manager.newSubManager()) {
            gamma = st.load("text_model.final_layer_norm.weight", scope).toFloatArray();
            beta = st.load("text_model.final_layer_norm.bias", scope).toFloatArray();
        }
        int d = gamma.length;
        float[] expected = new float[penultimate.length];
        for (int row = 0; row < penultimate.length / d; row++) {
            double mean = 0;
            for (int j = 0; j < d; j++) {
                mean += penultimate[row * d + j];
            }
            mean /= d;
            double var = 0;
            for (int j = 0; j < d; j++) {
                double x = penultimate[row * d + j] - mean;
                var += x * x;
            }
            var /= d;
            for (int j = 0; j < d; j++) {
                expected[row * d + j] = (float) ((penultimate[row * d + j] - mean)
                        / Math.sqrt(var + encoder.config().layerNormEps()) * gamma[j] + beta[j]);
            }
        }
        assertClose(expected, encode(List.of(p), 2), 2e-5, "clip skip 2");
        assertArrayEquals(plainPath("a red apple"), encode(List.of(p), 1), "clip skip 1 is the last layer");
        encode(List.of(p), layers);
        assertThrows(IllegalArgumentException.class, () -> encode(List.of(p), 0));
        assertThrows(IllegalArgumentException.class, () -> encode(List.of(p), layers + 1));
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
        assertMessage(IllegalArgumentException.class, call, parts);
    }

    private static void assertMessage(Class<? extends RuntimeException> type,
            org.junit.jupiter.api.function.Executable call, String... parts) {
        RuntimeException e = assertThrows(type, call);
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), e.getMessage() + " should say " + part);
        }
    }

    private static void assertClose(float[] expected, float[] actual, double atol, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], atol, what + " at " + i);
        }
    }

    private static double[] box(float[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }

    private static float[] concat(float[]... parts) {
        int n = Arrays.stream(parts).mapToInt(a -> a.length).sum();
        float[] out = new float[n];
        int at = 0;
        for (float[] a : parts) {
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return out;
    }

    static float[][] randomVectors(int n, int d, long seed) {
        Random r = new Random(seed);
        float[][] v = new float[n][d];
        for (float[] row : v) {
            for (int j = 0; j < d; j++) {
                row[j] = (float) r.nextGaussian() * 0.1f;
            }
        }
        return v;
    }

    private static float[] flat(float[][] v) {
        float[] out = new float[v.length * v[0].length];
        for (int i = 0; i < v.length; i++) {
            System.arraycopy(v[i], 0, out, i * v[0].length, v[0].length);
        }
        return out;
    }

    /** A1111's format: emb_params [n, dim]. */
    static void writeA1111(Path file, float[][] v) {
        try (NDManager m = NDManager.newBaseManager()) {
            SafeTensorsWriter.write(file, Map.of("emb_params", m.create(flat(v), new Shape(v.length, v[0].length))),
                    Map.of("name", "test"));
        }
    }
}
