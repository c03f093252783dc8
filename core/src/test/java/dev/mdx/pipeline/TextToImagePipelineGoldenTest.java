package dev.mdx.pipeline;

import dev.mdx.testing.OneEngineThread;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.testing.Golden;
import dev.mdx.testing.TestModels;
import dev.mdx.text.TokenizedPrompt;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The end-to-end golden of diffusers' StableDiffusionPipeline: from the recorded initial latents and the call's
 * prompt, negative prompt, size, steps and guidance, every recorded UNet input, both UNet output halves, the latents
 * after each step, the decoder output and the image. Once from the recorded token ids (runs everywhere), once from
 * the prompt text through the tokenizer (needs the shared CLIP vocabulary).
 */
@ExtendWith(OneEngineThread.class)
class TextToImagePipelineGoldenTest {
    private static final Path ROOT = Golden.root();
    private static final Path IO = ROOT.resolve("pipeline/io.safetensors");
    private static final JsonNode CALL = JsonConfig.read(ROOT.resolve("pipeline/pipeline_golden.json")).root()
            .get("call");

    @TempDir
    Path tmp;




    /** Copies of the traced tensors, by the golden's names. */
    private static final class Recorder extends TraceRecorder {
        Recorder(NDManager manager) {
            super(manager);
        }

        @Override
        public void promptEmbeds(NDArray embeds) {
            keep("prompt_embeds", embeds);
        }

        @Override
        public void unetInput(int image, int step, NDArray input) {
            keep("step" + step + ".latent_model_input", input);
        }

        @Override
        public void noisePrediction(int image, int step, NDArray uncond, NDArray text, NDArray guided) {
            keep("step" + step + ".noise_pred_uncond", uncond);
            keep("step" + step + ".noise_pred_text", text);
            keep("step" + step + ".noise_pred", guided);
        }

        @Override
        public void latents(int image, int step, NDArray latents) {
            keep("step" + step + ".latents", latents);
        }

        @Override
        public void decoded(int image, NDArray decoded) {
            keep("decoded", decoded);
            keep("image", Images.toUnitRange(decoded));
        }
    }

    private static GenerationRequest request(TextToImagePipeline pipeline) {
        return pipeline.newRequest()
                .prompt(CALL.get("prompt").asText())
                .negativePrompt(CALL.get("negative_prompt").asText())
                .size(CALL.get("width").asInt(), CALL.get("height").asInt())
                .steps(CALL.get("num_inference_steps").asInt())
                .cfgScale(CALL.get("guidance_scale").asDouble())
                .eta(CALL.get("eta").asDouble())
                .seed(0)
                .build();
    }

    @Test
    void recordedTokenIdsReproduceEveryStep() {
        Path folder = TestModels.goldenPipeline(tmp.resolve("model"), TestModels.tinyTokenizer(tmp.resolve("tok")));
        try (TextToImagePipeline pipeline = TextToImagePipeline.load(folder);
                SafeTensorsFile golden = SafeTensorsFile.open(IO);
                NDManager manager = NDManager.newBaseManager()) {
            TokenizedPrompt prompt = recorded(golden, "prompt_input_ids", manager);
            TokenizedPrompt negative = recorded(golden, "negative_prompt_input_ids", manager);
            float[] init = golden.load("initial_latents", manager).toFloatArray();
            Recorder trace = new Recorder(manager);
            GenerationResult result = pipeline.generate(request(pipeline), prompt, negative, init, StepCallback.NONE,
                    trace);
            assertEquals(0, result.warnings().size(), result.warnings().toString());
            checkAgainstGolden(golden, manager, trace, result);
        }
    }

    @Test
    void promptTextReproducesEveryStep() {
        Path vocab = Golden.sharedTokenizerDir(getClass().getSimpleName());
        Assumptions.assumeTrue(vocab != null, "CLIP vocab.json/merges.txt not available: skipped");
        // the golden folder itself (its copy in test resources has no vocabulary) composed with the shared one
        try (TextToImagePipeline pipeline = TextToImagePipeline.builder(ROOT).tokenizerDir(vocab).build();
                SafeTensorsFile golden = SafeTensorsFile.open(IO);
                NDManager manager = NDManager.newBaseManager()) {
            float[] init = golden.load("initial_latents", manager).toFloatArray();
            Recorder trace = new Recorder(manager);
            GenerationResult result = pipeline.generate(request(pipeline), init, StepCallback.NONE, trace);
            assertEquals(0, result.warnings().size(), result.warnings().toString());
            checkAgainstGolden(golden, manager, trace, result);
        }
    }

    private static TokenizedPrompt recorded(SafeTensorsFile golden, String name, NDManager manager) {
        long[] ids = golden.load(name, manager).toLongArray();
        int[] asInts = Arrays.stream(ids).mapToInt(Math::toIntExact).toArray();
        int[] mask = new int[asInts.length];
        Arrays.fill(mask, 1);
        return new TokenizedPrompt(asInts, mask, asInts.length);
    }

    private static void checkAgainstGolden(SafeTensorsFile golden, NDManager manager, Recorder trace,
            GenerationResult result) {
        Golden.assertClose(golden.load("prompt_embeds", manager), trace.tensors.get("prompt_embeds"),
                Golden.tolerance(Golden.pipelineComponent("text_encoder").resolve("io.safetensors"),
                        "last_hidden_state", 5e-5),
                "prompt_embeds");
        int steps = CALL.get("num_inference_steps").asInt();
        for (int i = 0; i < steps; i++) {
            // the step's latents tolerance also bounds its inputs and UNet outputs (same chain of float32 error)
            double atol = Golden.tolerance(IO, "step" + i + ".latents", 5e-4);
            for (String part : new String[] {"latent_model_input", "noise_pred_uncond", "noise_pred_text",
                "noise_pred", "latents"}) {
                String name = "step" + i + "." + part;
                Golden.assertClose(golden.load(name, manager), trace.tensors.get(name), atol, name);
            }
        }
        Golden.assertClose(golden.load("decoded", manager), trace.tensors.get("decoded"),
                Golden.tolerance(IO, "decoded", 5e-5), "decoded");
        NDArray expectedImage = golden.load("image", manager);
        Golden.assertClose(expectedImage, trace.tensors.get("image"), Golden.tolerance(IO, "image", 1e-5), "image");

        // the 8-bit image: round(x * 255) of the golden's float image, up to a rounding tie
        float[] unit = expectedImage.toFloatArray();
        byte[] rgb = result.images().get(0).rgb();
        assertEquals(unit.length, rgb.length);
        int maxDiff = 0;
        for (int j = 0; j < unit.length; j++) {
            maxDiff = Math.max(maxDiff, Math.abs(Math.round(unit[j] * 255f) - (rgb[j] & 0xff)));
        }
        System.out.println("8-bit image: max difference " + maxDiff + " levels");
        assertTrue(maxDiff <= 1, "8-bit image differs by " + maxDiff + " levels");
    }
}
