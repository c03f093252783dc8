package dev.mdx.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.testing.TestModels;
import java.awt.image.BufferedImage;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Both API families over real HTTP on loopback, against the micro model: what they return and their errors. */
class ServerApiTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(b -> b.maxPromptChars(100).maxImages(4).maxBodyBytes(64 * 1024)
                .maxUploadBytes(2048).maxPixels(64 * 64));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void healthAndModels() {
        HttpResponse<String> health = server.get("/health");
        assertEquals(200, health.statusCode());
        assertEquals("ok", TestServer.json(health).path("status").asText());
        assertEquals("micro", TestServer.json(health).path("models").get(0).asText());
        JsonNode models = TestServer.json(server.get("/v1/models"));
        assertEquals("list", models.path("object").asText());
        assertEquals("micro", models.path("data").get(0).path("id").asText());
        JsonNode sd = TestServer.json(server.get("/sdapi/v1/sd-models"));
        assertEquals("micro", sd.get(0).path("model_name").asText());
        JsonNode samplers = TestServer.json(server.get("/sdapi/v1/samplers"));
        List<String> names = new ArrayList<>();
        samplers.forEach(s -> names.add(s.path("name").asText()));
        assertTrue(names.containsAll(List.of("DDIM", "Euler a", "DPM++ 2M", "UFOGen")), names.toString());
        assertEquals("micro", TestServer.json(server.get("/sdapi/v1/options")).path("sd_model_checkpoint").asText());
        JsonNode page = TestServer.json(server.get("/mdx/v1/models"));
        assertEquals(TestModels.MICRO_SIZE, page.path("models").get(0).path("defaults").path("width").asInt());
    }

    @Test
    void openAiGenerationReturnsPngsWithTheirParameters() {
        HttpResponse<String> r = server.post("/v1/images/generations", """
                {"prompt": "a red fox", "n": 2, "size": "16x16", "seed": 5, "steps": 2, "cfg_scale": 3,
                 "negative_prompt": "blurry", "sampler": "euler_a", "response_format": "b64_json",
                 "quality": "ignored: unknown fields are ignored as OpenAI's optional ones"}""");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = TestServer.json(r);
        assertTrue(body.path("created").asLong() > 1_700_000_000L);
        assertEquals(2, body.path("data").size());
        for (int k = 0; k < 2; k++) {
            JsonNode item = body.path("data").get(k);
            byte[] png = Pngs.decode(item.path("b64_json").asText());
            BufferedImage image = Pngs.image(png);
            assertEquals(16, image.getWidth());
            assertEquals(5 + k, item.path("seed").asLong());
            String parameters = Pngs.text(png, "parameters");
            assertEquals(item.path("infotext").asText(), parameters);
            assertTrue(parameters.startsWith("a red fox\nNegative prompt: blurry\nSteps: 2, Sampler: Euler a, CFG"
                    + " scale: 3, Seed: " + (5 + k) + ", Size: 16x16, Model: micro"), parameters);
        }
        JsonNode used = body.path("mdx").path("parameters");
        assertEquals("euler_a", used.path("sampler").asText());
        assertEquals(2, used.path("steps").asInt());
    }

    @Test
    void aRequestAloneGivesTheSameImageEveryTime() {
        String request = "{\"prompt\": \"a fox\", \"seed\": 9, \"steps\": 2}";
        String first = TestServer.json(server.post("/v1/images/generations", request)).path("data").get(0)
                .path("b64_json").asText();
        String second = TestServer.json(server.post("/v1/images/generations", request)).path("data").get(0)
                .path("b64_json").asText();
        assertEquals(first, second);
        String other = TestServer.json(server.post("/v1/images/generations", request.replace("9", "10")))
                .path("data").get(0).path("b64_json").asText();
        assertNotEquals(first, other);
    }

    @Test
    void a1111Txt2ImgReturnsImagesParametersAndInfo() throws Exception {
        HttpResponse<String> r = server.post("/sdapi/v1/txt2img", """
                {"prompt": "a cat", "negative_prompt": "", "steps": 2, "cfg_scale": 1, "seed": 40, "width": 16,
                 "height": 16, "batch_size": 2, "n_iter": 2, "sampler_name": "DPM++ 2M Karras", "restore_faces": false,
                 "override_settings": {"sd_model_checkpoint": "micro"}}""");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = TestServer.json(r);
        assertEquals(4, body.path("images").size(), "batch_size x n_iter images");
        JsonNode info = Fields.MAPPER.readTree(body.path("info").asText());
        List<Long> seeds = new ArrayList<>();
        info.path("all_seeds").forEach(s -> seeds.add(s.asLong()));
        assertEquals(List.of(40L, 41L, 42L, 43L), seeds);
        assertEquals("DPM++ 2M", info.path("sampler_name").asText());
        assertEquals(4, info.path("infotexts").size());
        byte[] png = Pngs.decode(body.path("images").get(3).asText());
        assertEquals(info.path("infotexts").get(3).asText(), Pngs.text(png, "parameters"));
        assertEquals(2, body.path("parameters").path("batch_size").asInt());
        assertEquals(40, body.path("parameters").path("seed").asInt());
    }

    @Test
    void a1111DefaultsComeFromTheModelAndARandomSeedIsReported() throws Exception {
        JsonNode body = TestServer.json(server.post("/sdapi/v1/txt2img", "{\"prompt\": \"a cat\", \"steps\": 1}"));
        JsonNode info = Fields.MAPPER.readTree(body.path("info").asText());
        assertEquals(TestModels.MICRO_SIZE, info.path("width").asInt());
        assertTrue(info.path("seed").asLong() >= 0, "the random seed used is reported");
        assertEquals("DDIM", info.path("sampler_name").asText(), "the model folder's scheduler");
    }

    @Test
    void a1111ClipSkipAndEmbeddingList() {
        HttpResponse<String> ok = server.post("/sdapi/v1/txt2img", """
                {"prompt": "a (cat:1.2), [dog]", "steps": 1, "seed": 1,
                 "override_settings": {"CLIP_stop_at_last_layers": 1}}""");
        assertEquals(200, ok.statusCode(), ok.body());
        // the micro text encoder has one layer
        assertError(server.post("/sdapi/v1/txt2img", """
                {"prompt": "a cat", "steps": 1, "override_settings": {"CLIP_stop_at_last_layers": 2}}"""), 400,
                "CLIP_stop_at_last_layers", "between 1 (the last layer) and 1");
        JsonNode list = TestServer.json(server.get("/sdapi/v1/embeddings"));
        assertTrue(list.path("loaded").isObject() && list.path("loaded").isEmpty(), list.toString());
        assertTrue(list.path("skipped").isObject(), list.toString());
    }

    @Test
    void optionsPickTheDefaultModel() {
        assertEquals(200, server.post("/sdapi/v1/options", "{\"sd_model_checkpoint\": \"micro\"}").statusCode());
        HttpResponse<String> unknown = server.post("/sdapi/v1/options", "{\"sd_model_checkpoint\": \"sdxl\"}");
        assertError(unknown, 404, "model", "model 'sdxl' is not served here; models: micro");
        assertTrue(TestServer.json(unknown).path("detail").asText().contains("sdxl"), "A1111 clients read detail");
    }

    @Test
    void badInputGetsOneClearJsonError() {
        assertError(server.post("/v1/images/generations", "{\"prompt\": \"a\", "), 400, null,
                "the body is not valid JSON");
        assertError(server.post("/v1/images/generations", "[1, 2]"), 400, null, "must be a JSON object");
        assertError(server.post("/v1/images/generations", "{\"n\": 1}"), 400, "prompt", "prompt is required");
        assertError(server.post("/v1/images/generations", "{\"prompt\": \"a\", \"steps\": \"ten\"}"), 400, "steps",
                "steps must be an integer, got \"ten\"");
        assertError(server.post("/v1/images/generations", "{\"prompt\": \"a\", \"steps\": 1.5}"), 400, "steps",
                "steps must be an integer");
        assertError(server.post("/v1/images/generations", "{\"prompt\": \"a\", \"size\": \"big\"}"), 400, "size",
                "size must be WIDTHxHEIGHT");
        assertError(server.post("/v1/images/generations", "{\"prompt\": \"a\", \"size\": \"15x16\"}"), 400, "size",
                "size must be a multiple of 2");
        assertError(server.post("/sdapi/v1/txt2img", "{\"prompt\": \"a\", \"width\": 15}"), 400, "width",
                "width must be a multiple of 2");
        assertError(server.post("/v1/images/generations", "{\"prompt\": \"a\", \"size\": \"128x128\"}"), 400,
                "size", "128x128 is larger than this server allows (4096 pixels)");
        assertError(server.post("/v1/images/generations", "{\"prompt\": \"a\", \"n\": 5}"), 400, "n",
                "n must be between 1 and 4, got 5");
        assertError(server.post("/sdapi/v1/txt2img", "{\"prompt\": \"a\", \"batch_size\": 2, \"n_iter\": 3}"), 400,
                "batch_size", "asks for 6 images; this server makes at most 4");
        assertError(server.post("/v1/images/generations", "{\"prompt\": \"" + "a".repeat(101) + "\"}"), 400,
                "prompt", "prompt is 101 characters long; this server takes at most 100");
        assertError(server.post("/v1/images/generations", "{\"prompt\": \"a\", \"cfg_scale\": -1}"), 400,
                "cfg_scale", "cfg_scale must be between 0 and 100");
        assertError(server.post("/v1/images/generations", "{\"prompt\": \"a\", \"sampler\": \"plms\"}"), 400,
                "sampler", "unknown sampler 'plms'");
        assertError(server.post("/v1/images/generations", "{\"prompt\": \"a\", \"response_format\": \"url\"}"),
                400, "response_format", "not supported");
        assertError(server.post("/v1/images/generations", "{\"prompt\": \"a\", \"model\": \"dall-e-3\"}"), 404,
                "model", "model 'dall-e-3' is not served here");
        assertError(server.post("/v1/images/generations", "{\"prompt\": \"" + "a".repeat(70_000) + "\"}"), 413,
                null, "this server takes at most 65536");
        assertError(server.get("/v1/nothing"), 404, null, "no such endpoint: GET /v1/nothing");
        assertError(server.get("/v1/images/generations"), 405, null, "GET is not allowed");
    }

    @Test
    void img2imgRunsAndChecksItsInput() {
        String png = tinyPngBase64(16, 16);
        HttpResponse<String> valid = server.post("/sdapi/v1/img2img", "{\"prompt\": \"a\", \"init_images\": [\""
                + png + "\"], \"mask\": \"data:image/png;base64," + png + "\", \"denoising_strength\": 0.5,"
                + " \"steps\": 2}");
        assertEquals(200, valid.statusCode(), valid.body());
        JsonNode answer = TestServer.json(valid);
        assertEquals(1, answer.path("images").size(), valid.body());
        assertTrue(answer.path("info").asText().contains("Denoising strength: 0.5"), valid.body());
        assertError(server.post("/sdapi/v1/img2img", "{\"init_images\": [\"" + png + "\"], \"mask\": \""
                + greyPngBase64(16, 16) + "\"}"), 400, "mask", "mostly grey");
        assertError(server.post("/sdapi/v1/img2img", "{\"prompt\": \"a\"}"), 400, "init_images",
                "init_images must be a list");
        assertError(server.post("/sdapi/v1/img2img", "{\"init_images\": [\"bm90IGFuIGltYWdl\"]}"), 400,
                "init_images[0]", "not an image");
        assertError(server.post("/sdapi/v1/img2img", "{\"init_images\": [\"%%%\"]}"), 400, "init_images[0]",
                "not base64");
        assertError(server.post("/sdapi/v1/img2img", "{\"init_images\": [\"" + tinyPngBase64(128, 128) + "\"]}"),
                413, "init_images[0]", "128x128");
        assertError(server.post("/sdapi/v1/img2img", "{\"init_images\": [\"" + "A".repeat(4000) + "\"]}"), 413,
                "init_images[0]", "at most 2048 bytes");
        assertError(server.post("/sdapi/v1/img2img", "{\"init_images\": [\"" + png + "\"], \"mask\": \""
                + tinyPngBase64(8, 8) + "\"}"), 400, "mask", "mask is 8x8 but the init image is 16x16");
        assertError(server.post("/sdapi/v1/img2img", "{\"init_images\": [\"" + png + "\"], \"denoising_strength\":"
                + " 2}"), 400, "denoising_strength", "between 0 and 1");
    }

    @Test
    void progressIsIdleBetweenRequests() {
        JsonNode p = TestServer.json(server.get("/sdapi/v1/progress?skip_current_image=false"));
        assertEquals(0.0, p.path("progress").asDouble());
        assertTrue(p.path("current_image").isNull());
        assertEquals(0, TestServer.json(server.post("/sdapi/v1/interrupt", "")).path("interrupted").asInt());
    }

    @Test
    void thePlanSaysWhatARequestWouldRunAs() {
        JsonNode plan = TestServer.json(server.post("/mdx/v1/plan", "{\"prompt\": \"a\", \"steps\": 3,"
                + " \"cfg_scale\": 1, \"negative_prompt\": \"dark\"}"));
        assertTrue(plan.path("student").isNull(), "the micro model ships no students");
        assertEquals(3, plan.path("unet_calls").asInt());
        assertTrue(plan.path("warnings").get(0).asText().contains("the negative prompt is ignored"));
    }

    @Test
    void theMetricsAreInPrometheusTextFormat() {
        server.post("/v1/images/generations", "{\"prompt\": \"a\", \"steps\": 1}");
        server.post("/v1/images/generations", "{\"prompt\": \"a\", \"steps\": \"x\"}");
        HttpResponse<String> r = server.get("/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        String text = r.body();
        for (String expected : List.of("mdx_requests_total{api=\"openai\",outcome=\"ok\"}",
                "mdx_requests_total{api=\"openai\",outcome=\"invalid\"}", "mdx_queue_length ",
                "mdx_generations_running ", "mdx_request_duration_seconds_bucket{api=\"openai\",le=",
                "mdx_images_generated_total{model=\"micro\"}", "mdx_images_per_second ",
                "process_resident_memory_bytes ", "mdx_native_arrays ", "mdx_batch_images_bucket")) {
            assertTrue(text.contains(expected), "metrics lack " + expected);
        }
    }

    @Test
    void aModelThatBreaksIsA500ThatSaysSo() throws Exception {
        try (TestServer broken = new TestServer(model -> TestModels.fillTensor(
                model.resolve("unet/diffusion_pytorch_model.safetensors"), "conv_in.weight", Float.NaN), b -> { })) {
            assertError(broken.post("/v1/images/generations", "{\"prompt\": \"a\", \"steps\": 2}"), 500, null,
                    "step 1 of 2 (timestep");
            HttpResponse<String> r = broken.post("/sdapi/v1/txt2img", "{\"prompt\": \"a\", \"steps\": 2}");
            assertEquals("model_error", TestServer.json(r).path("error").path("type").asText());
            assertTrue(TestServer.json(r).path("detail").asText().contains("NaN or infinite latents"), r.body());
            assertFalse(broken.log().contains("internal error"), "a broken model is not a bug in mdx");
        }
    }

    /** A status, the field at fault and part of the message, in the one error shape. */
    static void assertError(HttpResponse<String> r, int status, String param, String message) {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.body());
        JsonNode error = TestServer.json(r).path("error");
        assertTrue(error.path("message").asText().contains(message), () -> "'" + message + "' not in " + r.body());
        assertEquals(param, error.path("param").isNull() ? null : error.path("param").asText(), r.body());
        assertFalse(error.path("type").asText().isEmpty());
    }

    static String greyPngBase64(int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        java.util.Arrays.fill(rgb, (byte) 128);
        return java.util.Base64.getEncoder().encodeToString(dev.mdx.io.PngWriter.encode(rgb, w, h, java.util.Map.of()));
    }

    static String tinyPngBase64(int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        return java.util.Base64.getEncoder().encodeToString(dev.mdx.io.PngWriter.encode(rgb, w, h, java.util.Map.of()));
    }
}
