package dev.mdx.serve;

import static dev.mdx.serve.ServerApiTest.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.pipeline.RgbImage;
import dev.mdx.testing.ImageDiff;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Admission and load over real HTTP: the bounded queue refuses with 429 and Retry-After, the request timeout ends
 * requests with 504, a client that leaves stops its generation, interrupt stops running work, concurrent requests
 * that can share a batch run as one, progress streams as server-sent events, the API key is checked, and native
 * memory stays flat.
 */
class ServerLoadBehaviourTest {
    /** A request that keeps the micro model busy for about a second or more: 4 guided images of 150 steps. */
    private static final String LONG = "{\"prompt\": \"a long one\", \"n\": 4, \"steps\": 150, \"cfg_scale\": 5}";

    private static CompletableFuture<HttpResponse<String>> postAsync(TestServer s, String path, String json) {
        return s.http.sendAsync(s.request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void waitFor(String what, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    private static JsonNode health(TestServer s) {
        return TestServer.json(s.get("/health"));
    }

    private static boolean running(TestServer s) {
        return health(s).path("running").asInt() > 0;
    }

    @Test
    void aFullQueueRefusesWith429AndRetryAfter() throws Exception {
        try (TestServer s = new TestServer(b -> b.workers(1).queueCapacity(1))) {
            CompletableFuture<HttpResponse<String>> busy = postAsync(s, "/v1/images/generations", LONG);
            waitFor("the long request runs", () -> running(s));
            CompletableFuture<HttpResponse<String>> queued = postAsync(s, "/v1/images/generations",
                    "{\"prompt\": \"queued\", \"steps\": 1}");
            waitFor("the second request waits", () -> health(s).path("queue").asInt() == 1);
            HttpResponse<String> refused = s.post("/sdapi/v1/txt2img", "{\"prompt\": \"one too many\"}");
            assertError(refused, 429, null, "the server is busy: 1 requests are waiting (the limit is 1)");
            long retry = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
            assertTrue(retry >= 1, "Retry-After " + retry);
            assertEquals(1, TestServer.json(s.post("/sdapi/v1/interrupt", "")).path("interrupted").asInt());
            assertEquals(200, queued.get().statusCode(), "the admitted request still gets its image");
            assertError(busy.get(), 409, null, "interrupted");
            assertTrue(s.get("/metrics").body().contains("mdx_requests_total{api=\"a1111\",outcome=\"rejected\"} 1"));
        }
    }

    @Test
    void requestsPastTheTimeoutGet504() throws Exception {
        try (TestServer s = new TestServer(b -> b.workers(1).requestTimeout(Duration.ofMillis(400)))) {
            CompletableFuture<HttpResponse<String>> running = postAsync(s, "/v1/images/generations", LONG);
            CompletableFuture<HttpResponse<String>> waiting = postAsync(s, "/v1/images/generations", LONG);
            long start = System.nanoTime();
            assertError(running.get(), 504, null, "did not finish within the server's request timeout");
            assertError(waiting.get(), 504, null, "did not finish within the server's request timeout");
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds < 5, "both ended soon after their deadline, not after generating: " + seconds + " s");
            waitFor("the worker is free", () -> !running(s));
        }
    }

    @Test
    void aClientThatLeavesStopsItsGeneration() throws Exception {
        try (TestServer s = new TestServer(b -> b.workers(1))) {
            String body = LONG.replace("\"n\": 4", "\"n\": 16");
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), s.server.port())) {
                OutputStream out = socket.getOutputStream();
                out.write(("POST /v1/images/generations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                        + "\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
                waitFor("the request runs", () -> running(s));
            }
            long left = System.nanoTime();
            waitFor("the generation stops", () -> !running(s));
            double seconds = (System.nanoTime() - left) / 1e9;
            waitFor("the outcome is counted", () -> s.get("/metrics").body()
                    .contains("mdx_requests_total{api=\"openai\",outcome=\"client_gone\"} 1"));
            assertTrue(seconds < 2, "stopped " + seconds + " s after the client left");

            // a queued request whose client leaves is dropped from the queue
            CompletableFuture<HttpResponse<String>> busy = postAsync(s, "/v1/images/generations", LONG);
            waitFor("the long request runs", () -> running(s));
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), s.server.port())) {
                String small = "{\"prompt\": \"never mind\"}";
                socket.getOutputStream().write(("POST /sdapi/v1/txt2img HTTP/1.1\r\nHost: x\r\nContent-Length: "
                        + small.length() + "\r\n\r\n" + small).getBytes(StandardCharsets.UTF_8));
                waitFor("it waits", () -> health(s).path("queue").asInt() == 1);
            }
            waitFor("it is dropped", () -> health(s).path("queue").asInt() == 0);
            s.post("/sdapi/v1/interrupt", "");
            busy.get();
        }
    }

    @Test
    void interruptReturnsTheImagesFinishedSoFar() throws Exception {
        try (TestServer s = new TestServer(b -> b.workers(1))) {
            CompletableFuture<HttpResponse<String>> r = postAsync(s, "/sdapi/v1/txt2img", "{\"prompt\": \"a\","
                    + " \"batch_size\": 2, \"steps\": 150, \"cfg_scale\": 5, \"seed\": 3}");
            waitFor("the second image is under way", () -> {
                JsonNode p = TestServer.json(s.get("/sdapi/v1/progress"));
                return p.path("state").path("sampling_step").asInt() > 160;
            });
            JsonNode progress = TestServer.json(s.get("/sdapi/v1/progress"));
            assertEquals(300, progress.path("state").path("sampling_steps").asInt());
            assertNotNull(progress.path("current_image").textValue(), "a polled job shows its preview");
            s.post("/sdapi/v1/interrupt", "");
            HttpResponse<String> done = r.get();
            assertEquals(200, done.statusCode(), done.body());
            JsonNode body = TestServer.json(done);
            assertEquals(1, body.path("images").size());
            assertTrue(Fields.MAPPER.readTree(body.path("info").asText()).path("interrupted").asBoolean());
        }
    }

    @Test
    void concurrentRequestsThatShareAModelBatchRunAsOne() throws Exception {
        try (TestServer s = new TestServer(b -> b.workers(1).maxBatchImages(8))) {
            CompletableFuture<HttpResponse<String>> busy = postAsync(s, "/v1/images/generations", LONG);
            waitFor("the long request runs", () -> running(s));
            List<String> batchable = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                batchable.add("{\"prompt\": \"fox " + i + "\", \"steps\": 1, \"seed\": " + (100 + i)
                        + ", \"cfg_scale\": " + (2 + i) + "}");
            }
            List<CompletableFuture<HttpResponse<String>>> batched = new ArrayList<>();
            for (String r : batchable) {
                batched.add(postAsync(s, "/v1/images/generations", r));
            }
            CompletableFuture<HttpResponse<String>> otherSize = postAsync(s, "/v1/images/generations",
                    "{\"prompt\": \"wide\", \"steps\": 1, \"size\": \"32x16\"}");
            waitFor("all five wait", () -> health(s).path("queue").asInt() == 5);
            s.post("/sdapi/v1/interrupt", "");
            busy.get();
            assertEquals(1, TestServer.json(otherSize.get()).path("mdx").path("batch_images").asInt(),
                    "another size cannot share the batch");
            for (int i = 0; i < 4; i++) {
                JsonNode together = TestServer.json(batched.get(i).get());
                assertEquals(4, together.path("mdx").path("batch_images").asInt(), together.toString());
                JsonNode alone = TestServer.json(s.post("/v1/images/generations", batchable.get(i)));
                assertEquals(1, alone.path("mdx").path("batch_images").asInt());
                assertEquals(100 + i, together.path("data").get(0).path("seed").asInt());
                int d = ImageDiff.max(image(together), image(alone));
                assertTrue(d <= 2, "request " + i + " batched differs from alone by " + d);
            }
            String metrics = s.get("/metrics").body();
            assertTrue(metrics.contains("mdx_batch_images_bucket{le=\"4.0\"}"), metrics);
        }
    }

    @Test
    void progressStreamsAsServerSentEvents() throws Exception {
        try (TestServer s = new TestServer(b -> { })) {
            HttpResponse<java.util.stream.Stream<String>> r = s.http.send(s.request("/v1/images/generations")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"a\", \"steps\": 20, \"n\": 2,"
                            + " \"stream\": true, \"seed\": 1}")).build(), HttpResponse.BodyHandlers.ofLines());
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
            List<String> names = new ArrayList<>();
            List<JsonNode> data = new ArrayList<>();
            for (String line : (Iterable<String>) r.body()::iterator) {
                if (line.startsWith("event: ")) {
                    names.add(line.substring(7));
                } else if (line.startsWith("data: ")) {
                    data.add(Fields.MAPPER.readTree(line.substring(6)));
                }
            }
            assertEquals("mdx.queued", names.get(0));
            assertEquals("mdx.done", names.get(names.size() - 1));
            assertEquals(2, names.stream().filter("image_generation.completed"::equals).count());
            List<JsonNode> steps = data.stream().filter(d -> d.path("type").asText().equals("mdx.progress")).toList();
            assertTrue(steps.size() >= 10, "steps streamed: " + steps.size());
            int previews = 0;
            int last = 0;
            for (JsonNode step : steps) {
                int done = step.path("image_index").asInt() * 20 + step.path("step").asInt();
                assertTrue(done > last, "progress only advances");
                last = done;
                if (step.has("preview_b64")) {
                    previews++;
                    assertEquals(16, Pngs.image(Pngs.decode(step.path("preview_b64").asText())).getWidth());
                }
            }
            assertTrue(previews >= 2, "previews: " + previews);
            JsonNode image = data.stream().filter(d -> d.path("type").asText().equals("image_generation.completed"))
                    .findFirst().orElseThrow();
            assertEquals(1, image.path("seed").asInt());
            assertTrue(Pngs.text(Pngs.decode(image.path("b64_json").asText()), "parameters").contains("Seed: 1"));
        }
    }

    @Test
    void anApiKeyIsRequiredWhereSet() throws Exception {
        try (TestServer s = new TestServer(b -> b.apiKey("s3cret key"))) {
            HttpResponse<String> none = s.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(s.url("/v1/models"))).build());
            assertError(none, 401, null, "this server needs an API key");
            assertEquals("Bearer realm=\"mdx\"", none.headers().firstValue("WWW-Authenticate").orElse(""));
            HttpResponse<String> wrong = s.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(s.url("/sdapi/v1/txt2img"))).header("Authorization", "Bearer s3cret")
                    .POST(HttpRequest.BodyPublishers.ofString("{}")).build());
            assertError(wrong, 401, null, "the API key is not valid");
            HttpResponse<String> metrics = s.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(s.url("/metrics"))).build());
            assertEquals(401, metrics.statusCode());
            HttpResponse<String> lowerCase = s.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(s.url("/v1/models"))).header("Authorization", "bearer s3cret key").build());
            assertEquals(200, lowerCase.statusCode());
            assertEquals(200, s.get("/v1/models").statusCode());
            for (String open : List.of("/health", "/")) {
                assertEquals(200, s.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(s.url(open)))
                        .build()).statusCode(), open);
            }
            assertTrue(s.get("/metrics").body().contains("mdx_requests_total{api=\"a1111\",outcome=\"unauthorized\"}"));
        }
    }

    @Test
    void nativeMemoryStaysFlatOverManyRequests() throws Exception {
        try (TestServer s = new TestServer(b -> b.workers(2))) {
            String one = "{\"prompt\": \"a fox\", \"steps\": 2, \"cfg_scale\": 3}";
            s.post("/v1/images/generations", one);
            long arrays = s.server.models().managedArrays();
            for (int round = 0; round < 10; round++) {
                List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    all.add(postAsync(s, i % 2 == 0 ? "/v1/images/generations" : "/sdapi/v1/txt2img",
                            one.replace("fox", "fox " + i)));
                }
                all.add(postAsync(s, "/v1/images/generations", "{\"prompt\": \"bad\", \"steps\": 0}"));
                String statuses = all.stream().map(f -> Integer.toString(f.join().statusCode()))
                        .collect(Collectors.joining(","));
                assertEquals("200,200,200,200,200,200,200,200,400", statuses);
            }
            waitFor("the workers are idle", () -> !running(s));
            assertEquals(arrays, s.server.models().managedArrays(), "native arrays after 90 requests");
        }
    }

    private static RgbImage image(JsonNode response) {
        return dev.mdx.pipeline.EditImages.toRgb(Pngs.image(Pngs.decode(response.path("data").get(0).path("b64_json").asText())));
    }
}
