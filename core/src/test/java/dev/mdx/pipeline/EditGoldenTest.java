package dev.mdx.pipeline;

import dev.mdx.testing.OneEngineThread;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.sampling.SamplerKind;
import dev.mdx.testing.Golden;
import dev.mdx.testing.TestModels;
import dev.mdx.text.TokenizedPrompt;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Image to image and inpainting against diffusers' StableDiffusionImg2ImgPipeline and StableDiffusionInpaintPipeline
 * (the {@code img2img/} and {@code inpaint/} goldens): from the recorded init image, mask, token ids and random
 * draws, the encoded image, the starting latents, the latents after every step (after the blend, for inpainting),
 * the final latents and the decoder output, each within the tolerance the golden's own JSON suggests. Call values
 * (prompt ids, strength, steps, guidance, scheduler, runs) are read from the golden files.
 */
@ExtendWith(OneEngineThread.class)
class EditGoldenTest {
    private static final Path ROOT = Golden.root();
    private static final Pattern STEP = Pattern.compile("step\\d+");

    @TempDir
    Path tmp;



    @Test
    void img2imgMatchesDiffusersStepByStep() {
        Path dir = ROOT.resolve("img2img");
        JsonNode json = JsonConfig.read(dir.resolve("img2img_golden.json")).root();
        JsonNode call = json.get("call");
        try (TextToImagePipeline pipeline = goldenPipeline(); SafeTensorsFile io = SafeTensorsFile.open(
                dir.resolve("io.safetensors")); NDManager m = NDManager.newBaseManager()) {
            RgbImage image = rgb(io.load("init_image", m));
            ImageEdit edit = new ImageEdit(image, null, call.get("strength").asDouble(), 0, false, null);
            RecordedNoise noise = new RecordedNoise(io.load("noise", m).toFloatArray(),
                    io.load("noise_vae", m).toFloatArray(), null);
            run(pipeline, json, call, edit, noise, io, "", m);
        }
    }

    @Test
    void inpaintingMatchesDiffusersAtEachRecordedStrength() {
        Path dir = ROOT.resolve("inpaint");
        JsonNode json = JsonConfig.read(dir.resolve("inpaint_golden.json")).root();
        JsonNode call = json.get("call");
        int runs = 0;
        try (TextToImagePipeline pipeline = goldenPipeline(); SafeTensorsFile io = SafeTensorsFile.open(
                dir.resolve("io.safetensors")); NDManager m = NDManager.newBaseManager()) {
            RgbImage image = rgb(io.load("init_image", m));
            GrayImage mask = gray(io.load("mask_image", m));
            for (Iterator<Map.Entry<String, JsonNode>> it = json.get("runs").fields(); it.hasNext(); runs++) {
                Map.Entry<String, JsonNode> r = it.next();
                String prefix = "s" + r.getKey() + ".";
                ImageEdit edit = new ImageEdit(image, mask, r.getValue().get("strength").asDouble(), 0, false, null);
                RecordedNoise noise = new RecordedNoise(io.load(prefix + "noise", m).toFloatArray(),
                        io.load(prefix + "noise_vae_image", m).toFloatArray(),
                        io.load(prefix + "noise_vae_masked", m).toFloatArray());
                run(pipeline, json, call, edit, noise, io, prefix, m);
            }
        }
        assertTrue(runs > 0, "the inpaint golden names no runs");
    }

    /** The golden's base pipeline with the tiny tokenizer: the goldens' prompts are given as recorded token ids. */
    private TextToImagePipeline goldenPipeline() {
        Path folder = TestModels.goldenPipeline(tmp.resolve("model"), TestModels.tinyTokenizer(tmp.resolve("tok")));
        return TextToImagePipeline.load(folder);
    }

    private static void run(TextToImagePipeline pipeline, JsonNode json, JsonNode call, ImageEdit edit,
            RecordedNoise noise, SafeTensorsFile io, String prefix, NDManager m) {
        GenerationRequest request = pipeline.newRequest()
                .steps(call.get("num_inference_steps").asInt())
                .cfgScale(call.get("guidance_scale").asDouble())
                .eta(call.get("eta").asDouble())
                .sampler(scheduler(json))
                .size(edit.image().width(), edit.image().height())
                .seed(0)
                .edit(edit)
                .build();
        GenerationPlan plan = pipeline.plan(request, ids(io, "prompt_input_ids", m),
                ids(io, "negative_prompt_input_ids", m));
        long[] timesteps = io.load(prefix + "timesteps", m).toLongArray();
        float[] planned = Arrays.copyOfRange(plan.samplingPlan().timesteps(), plan.firstStep(),
                plan.samplingPlan().size());
        assertArrayEquals(Arrays.stream(timesteps).mapToDouble(t -> t).toArray(),
                toDoubles(planned), 0, prefix + "timesteps run");

        Recorder trace = new Recorder(m);
        pipeline.generate(plan, noise, trace);
        check(json, io, m, trace, prefix + "image_latents", "image_latents");
        check(json, io, m, trace, prefix + "init_latents", "init_latents");
        for (int i = 0; i < timesteps.length; i++) {
            check(json, io, m, trace, prefix + "step" + i + ".latents", "step" + i + ".latents");
        }
        check(json, io, m, trace, prefix + "final_latents", "step" + (timesteps.length - 1) + ".latents");
        check(json, io, m, trace, prefix + "decoded", "decoded");
    }

    /** Compares a traced tensor with the golden's, where the golden recorded it. */
    private static void check(JsonNode json, SafeTensorsFile io, NDManager m, Recorder trace, String golden,
            String ours) {
        if (!io.tensors().containsKey(golden)) {
            return;
        }
        NDArray actual = trace.tensors.get(ours);
        assertTrue(actual != null, "not traced: " + ours);
        Golden.assertClose(io.load(golden, m), actual, tolerance(json, golden), golden);
    }

    /** The golden JSON's suggested atol for a tensor ("s1.0.step*.latents (worst: ...)" covers every step). */
    private static double tolerance(JsonNode json, String tensor) {
        String pattern = STEP.matcher(tensor).replaceAll("step*");
        for (JsonNode row : json.get("tolerances")) {
            String name = row.get("tensor").asText().split(" \\(")[0];
            if (name.equals(tensor) || name.equals(pattern)) {
                return row.get("suggested_atol").asDouble();
            }
        }
        // a tensor without an entry (the encoded image, the starting latents) gets the tightest one the golden
        // suggests for its run: it comes before every step in the same float32 chain
        String run = tensor.substring(0, tensor.length() - tensor.replaceFirst("^s[0-9.]+?\\.(?=[a-z])", "").length());
        double tightest = Double.POSITIVE_INFINITY;
        for (JsonNode row : json.get("tolerances")) {
            if (row.get("tensor").asText().startsWith(run)) {
                tightest = Math.min(tightest, row.get("suggested_atol").asDouble());
            }
        }
        assertTrue(Double.isFinite(tightest), "the golden suggests no tolerance for " + tensor);
        return tightest;
    }

    /** The sampler of "scheduler=XScheduler.from_config" in the golden's pipeline description. */
    private static SamplerKind scheduler(JsonNode json) {
        Matcher matcher = Pattern.compile("scheduler=(\\w+)\\.from_config").matcher(json.get("pipeline").asText());
        assertTrue(matcher.find(), "no scheduler class in " + json.get("pipeline"));
        return SamplerKind.fromDiffusersClass(matcher.group(1)).orElseThrow();
    }

    private static TokenizedPrompt ids(SafeTensorsFile io, String name, NDManager m) {
        int[] ids = Arrays.stream(io.load(name, m).toLongArray()).mapToInt(Math::toIntExact).toArray();
        int[] attention = new int[ids.length];
        Arrays.fill(attention, 1);
        return new TokenizedPrompt(ids, attention, ids.length);
    }

    /** (H, W, 3) uint8 -> an RGB image. */
    private static RgbImage rgb(NDArray hwc) {
        long[] s = hwc.getShape().getShape();
        return new RgbImage((int) s[1], (int) s[0], hwc.toByteArray());
    }

    /** (H, W) uint8 -> a mask. */
    private static GrayImage gray(NDArray hw) {
        long[] s = hw.getShape().getShape();
        return new GrayImage((int) s[1], (int) s[0], hw.toByteArray());
    }

    private static double[] toDoubles(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    /** Copies of the traced tensors, by name. */
    private static final class Recorder extends TraceRecorder {
        Recorder(NDManager manager) {
            super(manager);
        }

        @Override
        public void imageLatents(int image, NDArray latents) {
            keep("image_latents", latents);
        }

        @Override
        public void initLatents(int image, NDArray latents) {
            keep("init_latents", latents);
        }

        @Override
        public void latents(int image, int step, NDArray latents) {
            keep("step" + step + ".latents", latents);
        }

        @Override
        public void decoded(int image, NDArray decoded) {
            keep("decoded", decoded);
        }
    }
}
