package dev.mdx.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.control.AdapterConfig;
import dev.mdx.control.ConditionType;
import dev.mdx.control.ControlAdapter;
import dev.mdx.io.ModelFolder;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.pipeline.PipelineConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A1111's txt2img with a ControlNet-extension unit, on the micro model given a random canny adapter. */
class ServerControlTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(ServerControlTest::addAdapter, b -> b.maxUploadBytes(4096).maxPixels(64 * 64));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    /** {@code MODEL/adapters/canny.safetensors} with random, non-zero outputs, fitted to the micro UNet. */
    private static void addAdapter(Path model) {
        PipelineConfig config = PipelineConfig.read(ModelFolder.open(model));
        AdapterConfig a = AdapterConfig.forUnet(config.unet(), config.vaeScaleFactor(), ConditionType.CANNY);
        try (NDManager m = NDManager.newBaseManager()) {
            ControlAdapter adapter = new ControlAdapter(a);
            dev.mdx.io.StateDicts.initRandom(adapter, m, 4);
            Map<String, NDArray> values = new LinkedHashMap<>();
            adapter.namedParameters().forEach((k, p) -> values.put(k, p.get()));
            Files.createDirectories(model.resolve("adapters"));
            SafeTensorsWriter.write(model.resolve("adapters").resolve("canny.safetensors"), values,
                    Map.of(AdapterConfig.METADATA_KEY, a.toJson()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String body(String unit) {
        return "{\"prompt\": \"a\", \"steps\": 2, \"width\": 16, \"height\": 16, \"alwayson_scripts\": {\"controlnet\":"
                + " {\"args\": [" + unit + "]}}}";
    }

    @Test
    void aControlUnitSteersTheImageAndBadUnitsAreClearErrors() {
        String black = ServerApiTest.tinyPngBase64(16, 16);
        HttpResponse<String> plain = server.post("/sdapi/v1/txt2img", "{\"prompt\": \"a\", \"steps\": 2, \"width\":"
                + " 16, \"height\": 16, \"seed\": 3}");
        // a red square on black: its edges are the square
        HttpResponse<String> edges = server.post("/sdapi/v1/txt2img", body("{\"input_image\": \"" + square(16, 16)
                + "\", \"module\": \"canny\", \"weight\": 1.0}").replace("\"steps\": 2", "\"steps\": 2, \"seed\": 3"));
        assertEquals(200, plain.statusCode(), plain.body());
        assertEquals(200, edges.statusCode(), edges.body());
        // the run says it was steered (the micro model's random weights draw the same saturated image either way)
        String info = TestServer.json(edges).path("info").asText();
        assertTrue(info.contains("control: canny adapter canny.safetensors at scale 1"), info);
        assertTrue(!TestServer.json(plain).path("info").asText().contains("control:"));

        ServerApiTest.assertError(server.post("/sdapi/v1/txt2img", body("{\"input_image\": \"" + colour(16, 16)
                + "\", \"module\": \"none\"}")), 400, "alwayson_scripts", "has colour");
        ServerApiTest.assertError(server.post("/sdapi/v1/txt2img", body("{\"input_image\": \"" + black
                + "\", \"module\": \"depth\"}")), 400, "alwayson_scripts", "unknown condition type");
        ServerApiTest.assertError(server.post("/sdapi/v1/txt2img", body("{\"module\": \"canny\"}")), 400,
                "alwayson_scripts", "input_image (a base64 image) is missing");
        ServerApiTest.assertError(server.post("/sdapi/v1/txt2img", body("{\"input_image\": \"" + black + "\"}, {}")),
                400, "alwayson_scripts", "one control adapter per request");
        ServerApiTest.assertError(server.post("/sdapi/v1/txt2img", body("{\"input_image\": \""
                + ServerApiTest.tinyPngBase64(8, 8) + "\", \"module\": \"none\"}")), 400,
                "alwayson_scripts.controlnet.args[0]", "but the output is 16x16");
    }

    private static String square(int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        for (int y = h / 4; y < 3 * h / 4; y++) {
            for (int x = w / 4; x < 3 * w / 4; x++) {
                rgb[3 * (y * w + x)] = (byte) 200;
            }
        }
        return java.util.Base64.getEncoder().encodeToString(dev.mdx.io.PngWriter.encode(rgb, w, h, Map.of()));
    }

    private static String colour(int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.length; i += 3) {
            rgb[i] = (byte) 200;
        }
        return java.util.Base64.getEncoder().encodeToString(dev.mdx.io.PngWriter.encode(rgb, w, h, Map.of()));
    }
}
