package dev.mdx.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.BundledModels;
import dev.mdx.io.JsonConfig;
import dev.mdx.pipeline.GenerationPlan;
import dev.mdx.pipeline.GenerationRequest;
import dev.mdx.pipeline.InvalidRequestException;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.pipeline.StepCallback;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.testing.TestModels;
import dev.mdx.text.ClipTokenizer;
import dev.mdx.unet.Guidance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The onnx engine gives the default engine's images: the same plan (seeds, sampler, guidance) with the networks in
 * ONNX Runtime. Pixels may differ by the graphs' rounding: at most {@value #MAX_PIXEL_DIFF} of 255 anywhere, and the
 * mean difference under {@value #MEAN_PIXEL_DIFF}.
 */
class OnnxEngineTest {
    static final int MAX_PIXEL_DIFF = 2;
    static final double MEAN_PIXEL_DIFF = 0.05;

    @TempDir
    Path tmp;

    /** The README's one-step example: the bundled emoji model's UFOGen student, a batch of two. */
    @Test
    void oneStepEmojiStudentMatchesTheDefaultEngine() {
        Path emoji = BundledModels.modelsDir().resolve("emoji");
        JsonNode json = assertSameImages(emoji, b -> b.prompt("a red apple").steps(1).seed(42).batchCount(2),
                Guidance.NONE, true);
        // what a runtime reads to run the student: its one timestep, parameterization and the VAE's shift
        assertEquals("ufogen", json.get("defaults").get("sampler").asText());
        assertEquals(999.0, json.get("defaults").get("timesteps").get(0).asDouble());
        assertEquals(999, json.get("student").get("one_step_timestep").asInt());
        assertEquals("v_prediction", json.get("scheduler").get("prediction_type").asText());
        assertTrue(json.get("vae").get("decode_input").asText().contains("shift_factor"));
        assertEquals(1000, json.get("scheduler").get("alphas_cumprod").size());
        ClipTokenizer tokenizer = ClipTokenizer.load(emoji.resolve("tokenizer"));
        assertEquals(tokenizer.eosId(), json.get("tokenizer").get("eos_token_id").asInt());
        assertEquals(tokenizer.padId(), json.get("tokenizer").get("pad_token_id").asInt());
    }

    /** Classifier-free guidance (both halves in one UNet batch) over several DDIM steps. */
    @Test
    void guidedMultiStepRunMatches() {
        Path micro = TestModels.microPipeline(tmp.resolve("micro"));
        assertSameImages(micro, b -> b.prompt("a fox").negativePrompt("blurry").steps(3).cfgScale(4.0).seed(7),
                Guidance.CLASSIFIER_FREE, false);
    }

    /** A UNet that reads the guidance scale (time_cond_proj_dim): the graph's guidance_scale input. */
    @Test
    void guidanceInputUNetMatches() {
        Path micro = TestModels.microGuidanceInputPipeline(tmp.resolve("micro-w"));
        assertSameImages(micro, b -> b.prompt("a fox").steps(2).cfgScale(3.0).seed(9), Guidance.EMBEDDED, false);
    }

    @Test
    void weightedPromptsAreRefusedByName() {
        Path micro = TestModels.microPipeline(tmp.resolve("micro-refused"));
        try (TextToImagePipeline pipeline = TextToImagePipeline.load(micro)) {
            GenerationPlan plan = pipeline.plan(pipeline.newRequest().prompt("a (red:1.4) fox").steps(1).build());
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> OnnxEngine.requireSupported(plan));
            assertEquals("prompt", e.field());
            assertTrue(e.getMessage().contains("weighted prompts"), e.getMessage());
        }
    }

    /** Runs both engines on one plan, compares the images, and returns the export's model.json. */
    private static JsonNode assertSameImages(Path model, UnaryOperator<GenerationRequest.Builder> request,
            Guidance expectedGuidance, boolean expectStudent) {
        JsonNode json;
        try (TextToImagePipeline pipeline = TextToImagePipeline.load(model)) {
            GenerationPlan plan = pipeline.plan(request.apply(pipeline.newRequest()).build());
            assertEquals(expectedGuidance, plan.guidance());
            assertEquals(expectStudent, plan.student().isPresent());
            List<RgbImage> expected = new ArrayList<>();
            pipeline.generate(plan, StepCallback.NONE, (k, image, used) -> expected.add(image));
            List<RgbImage> actual = new ArrayList<>();
            Path exported;
            try (OnnxEngine engine = OnnxEngine.forPlan(plan, model, 1)) {
                engine.generate(plan, (k, image, used) -> actual.add(image));
                exported = engine.dir();
                json = JsonConfig.read(exported.resolve(OnnxExport.MODEL_JSON)).root();
            }
            assertFalse(Files.exists(exported), "the temporary export is deleted on close");
            assertEquals(expected.size(), actual.size());
            for (int k = 0; k < expected.size(); k++) {
                byte[] e = expected.get(k).rgb();
                byte[] a = actual.get(k).rgb();
                assertEquals(e.length, a.length);
                int max = 0;
                long sum = 0;
                int distinct = 0;
                for (int i = 0; i < e.length; i++) {
                    int d = Math.abs((e[i] & 0xff) - (a[i] & 0xff));
                    max = Math.max(max, d);
                    sum += d;
                    distinct += (e[i] & 0xff) != (e[0] & 0xff) ? 1 : 0;
                }
                double mean = (double) sum / e.length;
                System.out.printf("onnx engine %s image %d: max |diff| %d/255, mean %.4f, %d values%n",
                        model.getFileName(), k, max, mean, e.length);
                assertFalse(distinct == 0, "a flat image proves nothing");
                assertTrue(max <= MAX_PIXEL_DIFF, "image " + k + ": a pixel differs by " + max + "/255");
                assertTrue(mean <= MEAN_PIXEL_DIFF, "image " + k + ": mean difference " + mean);
            }
        }
        return json;
    }
}
