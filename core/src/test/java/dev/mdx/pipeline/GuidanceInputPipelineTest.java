package dev.mdx.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.nn.GuidanceEmbedding;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.unet.Guidance;
import dev.mdx.testing.TestModels;
import dev.mdx.unet.UNet2DConditionModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A UNet with {@code time_cond_proj_dim} (a w-conditioned student) is run once per step at batch 1 on the prompt,
 * with the embedding of (CFG scale - 1) as its timestep condition; the negative prompt is ignored.
 */
class GuidanceInputPipelineTest {
    private static MicroPipelineFixture fixture;
    private static Path model;
    private static TextToImagePipeline pipeline;

    @BeforeAll
    static void load() throws Exception {
        fixture = new MicroPipelineFixture("mdx-guidance-input", TestModels::microGuidanceInputPipeline);
        model = fixture.model;
        pipeline = fixture.pipeline;
    }

    @AfterAll
    static void close() throws Exception {
        fixture.close();
    }

    private static GenerationRequest.Builder request() {
        return pipeline.newRequest().prompt("a red fox").steps(3).seed(4).sampler(SamplerKind.DDIM);
    }

    /** What one run hands the UNet and gets back, copied out of the call's scope. */
    private static final class Recorder implements PipelineTrace {
        final List<Shape> inputShapes = new ArrayList<>();
        final List<float[]> inputs = new ArrayList<>();
        final List<float[]> predictions = new ArrayList<>();
        Shape embedsShape;
        float[] embeds;
        boolean sawUncond;

        @Override
        public void promptEmbeds(NDArray e) {
            embedsShape = e.getShape();
            embeds = e.toFloatArray();
        }

        @Override
        public void unetInput(int image, int step, NDArray input) {
            inputShapes.add(input.getShape());
            inputs.add(input.toFloatArray());
        }

        @Override
        public void noisePrediction(int image, int step, NDArray uncond, NDArray text, NDArray guided) {
            sawUncond |= uncond != null;
            predictions.add(guided.toFloatArray());
        }
    }

    @Test
    void theConfigSaysSoAndAsksForOnePass() {
        PipelineConfig c = pipeline.config();
        GenerationPlan plan = pipeline.plan(request().cfgScale(7.5).build());
        assertEquals(Guidance.EMBEDDED, plan.guidance());
        assertEquals(1, plan.guidance().batchPerImage());
        assertTrue(c.notes().stream().anyMatch(n -> n.contains("takes the guidance scale as an input")), c.notes()
                .toString());
    }

    @Test
    void eachStepIsOneBatchOnePassWithTheEmbeddingOfScaleMinusOne() {
        Recorder trace = new Recorder();
        GenerationResult r = pipeline.generate(request().cfgScale(7.5).negativePrompt("blurry").build(), null,
                StepCallback.NONE, trace);
        Shape latent = new Shape(1, 4, TestModels.MICRO_SIZE / 2, TestModels.MICRO_SIZE / 2);
        assertEquals(List.of(latent, latent, latent), trace.inputShapes, "one UNet call per step, batch 1");
        assertEquals(3, r.timings().unetStepMs().size());
        assertEquals(1, trace.embedsShape.get(0), "the prompt alone is encoded");
        assertFalse(trace.sawUncond);
        assertTrue(r.warnings().stream().anyMatch(w -> w.contains("negative prompt is ignored: this model takes the"
                + " guidance scale as an input")), r.warnings().toString());

        // the prediction of step 1 is the UNet on (input, t, prompt, embedding(7.5 - 1)), computed here directly
        float t = pipeline.config().sampler(SamplerKind.DDIM, 0).plan(3).timestep(1);
        try (NDManager m = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = UNet2DConditionModel.load(model.resolve("unet"), m);
            NDArray cond = new GuidanceEmbedding(TestModels.MICRO_TIME_COND_PROJ_DIM).of(new float[] {6.5f}, m);
            float[] direct = unet.forward(m.create(trace.inputs.get(1), latent), m.create(new float[] {t}),
                    m.create(trace.embeds, trace.embedsShape), cond).toFloatArray();
            assertArrayEquals(direct, trace.predictions.get(1), 1e-6f);
            NDArray unguided = new GuidanceEmbedding(TestModels.MICRO_TIME_COND_PROJ_DIM).of(new float[] {0f}, m);
            float[] other = unet.forward(m.create(trace.inputs.get(1), latent), m.create(new float[] {t}),
                    m.create(trace.embeds, trace.embedsShape), unguided).toFloatArray();
            assertFalse(Arrays.equals(other, trace.predictions.get(1)), "the scale must reach the UNet");
        }
    }

    @Test
    void theGuidanceEmbeddingIsFreedWithTheCall() {
        pipeline.generate(request().cfgScale(3).build());
        int before = pipeline.managedArrayCount();
        for (int i = 0; i < 5; i++) {
            pipeline.generate(request().cfgScale(2 + i).seed(i).build());
        }
        assertEquals(before, pipeline.managedArrayCount());
    }

    @Test
    void theScaleChangesTheImageAndTheNegativePromptDoesNot() {
        byte[] seven = pipeline.generate(request().cfgScale(7.5).build()).images().get(0).rgb();
        byte[] withNegative = pipeline.generate(request().cfgScale(7.5).negativePrompt("blurry").build()).images()
                .get(0).rgb();
        assertArrayEquals(seven, withNegative, "the negative prompt is not used");
        Recorder unguided = new Recorder();
        GenerationResult one = pipeline.generate(request().cfgScale(1).build(), null, StepCallback.NONE, unguided);
        assertEquals(3, unguided.inputShapes.size(), "scale 1 is one pass per step too");
        assertNull(one.warnings().stream().filter(w -> w.contains("negative")).findAny().orElse(null));
        assertFalse(Arrays.equals(seven, one.images().get(0).rgb()), "scale 7.5 and 1 give different images");
    }
}
