package dev.mdx.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.tensor.Precision;
import dev.mdx.testing.TestModels;
import dev.mdx.text.ClipTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Long prompts, attention weights, embeddings and clip skip through the front door, on the micro pipeline (text
 * length 16, so 14 tokens a chunk): nothing is cut, the prompt and negative prompt share their chunk count, the UNet
 * reads the longer context, and bad input is one clear request error.
 */
class PromptAddOnsPipelineTest {
    private static MicroPipelineFixture fixture;

    @BeforeAll
    static void load() throws Exception {
        fixture = new MicroPipelineFixture("mdx-prompts", TestModels::microPipeline);
    }

    @AfterAll
    static void close() throws Exception {
        fixture.close();
    }

    private static GenerationRequest.Builder request() {
        return fixture.pipeline.newRequest().prompt("a fox").steps(2).seed(7).cfgScale(7.5);
    }

    /** The (B, chunks * 16, 16) conditioning the run encoded, as [negative; prompt]. */
    private static float[][] embeds(GenerationRequest request) {
        float[][] out = new float[2][];
        fixture.pipeline.generate(request, null, StepCallback.NONE, new PipelineTrace() {
            @Override
            public void promptEmbeds(NDArray embeds) {
                out[0] = embeds.toFloatArray();
                out[1] = new float[] {embeds.getShape().get(1)};
            }
        });
        return out;
    }

    private static String letters(int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            s.append((char) ('a' + i % 26)).append(i % 4 == 3 ? " " : "");
        }
        return s.toString().trim();
    }

    @Test
    void aPlainPromptRunsAsTheTokenIdsDid() {
        ClipTokenizer tok = fixture.pipeline.tokenizer();
        GenerationRequest r = request().negativePrompt("blur").build();
        float[] viaText = LoraPipelineTest.decoded(fixture.pipeline, r);
        float[][] out = new float[1][];
        fixture.pipeline.generate(r, tok.encode("a fox", 16), tok.encode("blur", 16), null, StepCallback.NONE,
                new PipelineTrace() {
                    @Override
                    public void decoded(int image, NDArray decoded) {
                        out[0] = decoded.toFloatArray();
                    }
                });
        assertArrayEquals(out[0], viaText);
    }

    @Test
    void aLongPromptIsEncodedInChunksNotCut() {
        String text = letters(30);
        GenerationPlan plan = fixture.pipeline.plan(request().prompt(text).negativePrompt("blur").build());
        assertEquals(3, plan.prompt().chunkCount(), "30 tokens in chunks of 14");
        assertEquals(3, plan.negativePrompt().chunkCount(), "the negative prompt is padded to the prompt's chunks");
        assertTrue(plan.warnings().isEmpty(), plan.warnings().toString());
        assertTrue(plan.notes().stream().anyMatch(n -> n.contains("30 tokens") && n.contains("3 chunks")),
                plan.notes().toString());
        float[][] e = embeds(request().prompt(text).negativePrompt("blur").build());
        assertEquals(48f, e[1][0], "the UNet is conditioned on 3 x 16 positions");
        GenerationResult r = fixture.pipeline.generate(request().prompt(text).negativePrompt("blur").build());
        assertTrue(r.images().get(0).stdDev() > 0);
        // the last words change the image: they are read, not cut
        assertFalse(java.util.Arrays.equals(
                LoraPipelineTest.decoded(fixture.pipeline, request().prompt(text + " zz").build()),
                LoraPipelineTest.decoded(fixture.pipeline, request().prompt(text + " yy").build())));
        // a long negative prompt pads the prompt instead
        GenerationPlan neg = fixture.pipeline.plan(request().negativePrompt(text).build());
        assertEquals(3, neg.prompt().chunkCount());
    }

    @Test
    void weightsReachTheImageAndWeightOneChangesNothing() {
        float[] plain = LoraPipelineTest.decoded(fixture.pipeline, request().prompt("a red fox").build());
        assertArrayEquals(plain, LoraPipelineTest.decoded(fixture.pipeline,
                request().prompt("a (red:1.0) fox").build()));
        assertFalse(java.util.Arrays.equals(plain, LoraPipelineTest.decoded(fixture.pipeline,
                request().prompt("a (red:1.4) fox").build())));
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> fixture.pipeline.plan(request().prompt("a (red:1.2.3) fox").build()));
        assertEquals("prompt", e.field());
    }

    @Test
    void clipSkipIsARequestFieldCheckedAgainstTheTextEncoder() {
        // the micro text encoder has one layer: clip skip 1 is all it has
        GenerationPlan plan = fixture.pipeline.plan(request().clipSkip(1).build());
        assertEquals(1, plan.parameters().clipSkip());
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> fixture.pipeline.plan(request().clipSkip(2).build()));
        assertEquals("clipSkip", e.field());
        assertTrue(e.getMessage().contains("between 1"), e.getMessage());
        assertThrows(InvalidRequestException.class, () -> request().clipSkip(0).build());
    }

    @Test
    void embeddingsComeFromTheModelsEmbeddingsFolder() throws Exception {
        Path dir = Files.createDirectories(fixture.model.resolve(TextToImagePipeline.DEFAULT_EMBEDDING_DIR));
        try (NDManager m = NDManager.newBaseManager()) {
            float[] v = new float[2 * 16];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) Math.sin(i);
            }
            SafeTensorsWriter.write(dir.resolve("qz.safetensors"), Map.of("emb_params", m.create(v, new Shape(2, 16))),
                    Map.of());
        }
        Files.write(dir.resolve("old.pt"), new byte[] {(byte) 0x80, 2});
        try {
            GenerationPlan plan = fixture.pipeline.plan(request().prompt("a qz").negativePrompt("qz").build());
            assertTrue(plan.notes().contains("the prompt uses the embedding qz"), plan.notes().toString());
            assertTrue(plan.notes().contains("the negative prompt uses the embedding qz"), plan.notes().toString());
            assertFalse(java.util.Arrays.equals(
                    LoraPipelineTest.decoded(fixture.pipeline, request().prompt("a qz").build()),
                    LoraPipelineTest.decoded(fixture.pipeline, request().prompt("a q z").build())));
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> fixture.pipeline.plan(request().prompt("an old fox").build()));
            assertEquals("prompt", e.field());
            assertTrue(e.getMessage().contains("pickled"), e.getMessage());
            assertEquals(List.of("qz"), fixture.pipeline.embeddings().usable().stream().map(t -> t.name()).toList());
        } finally {
            Files.delete(dir.resolve("qz.safetensors"));
            Files.delete(dir.resolve("old.pt"));
        }
    }

    @Test
    void theInfotextRecordsClipSkipAsA1111Does() {
        GenerationParameters p = fixture.pipeline.plan(request().build()).parameters();
        assertFalse(p.infotext(0).contains("Clip skip"));
        GenerationParameters two = new GenerationParameters(p.prompt(), p.negativePrompt(), p.steps(), p.cfgScale(),
                p.seed(), p.width(), p.height(), 1, p.sampler(), p.samplerName(), p.eta(), p.model(), null,
                List.of(), 2, null, Precision.FP32);
        assertTrue(two.infotext(0).contains(", Clip skip: 2"), two.infotext(0));
    }
}
