package dev.mdx.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.BundledModels;
import dev.mdx.pipeline.TextToImagePipeline;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.testing.TestModels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A server on a loopback port serving the micro random-weight model as "micro" (or a bundled model), and an HTTP
 * client for it. Tests talk to it over real HTTP.
 */
final class TestServer implements AutoCloseable {
    final Path dir;
    final MdxServer server;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private String apiKey;

    /** Micro model; {@code settings} adjusts the config (the port is always 0 and the host loopback). */
    TestServer(Consumer<ServeConfig.Builder> settings) {
        this("micro", null, settings, model -> { });
    }

    /** The micro model changed by {@code edit} (given its folder) before it loads. */
    TestServer(Consumer<Path> edit, Consumer<ServeConfig.Builder> settings) {
        this("micro", null, settings, edit);
    }

    /** A bundled model, its weights loaded as requests need them. */
    static TestServer bundled(String name, Consumer<ServeConfig.Builder> settings) {
        return new TestServer(name, BundledModels.resolve(name), settings, model -> { });
    }

    private TestServer(String name, Path bundled, Consumer<ServeConfig.Builder> settings, Consumer<Path> edit) {
        try {
            EngineThreads.set(1);
            dir = Files.createTempDirectory("mdx-serve-test");
            Path model = bundled != null ? bundled : TestModels.microPipeline(dir.resolve("micro"));
            if (bundled == null) {
                edit.accept(model);
            }
            TextToImagePipeline pipeline = TextToImagePipeline.builder(model).loadWeightsNow(bundled == null).build();
            ServeConfig.Builder b = ServeConfig.builder().port(0).models(java.util.List.of(name));
            settings.accept(b);
            ServeConfig config = b.build();
            apiKey = config.apiKey();
            server = MdxServer.start(config, ModelRegistry.of(Map.of(name, pipeline)),
                    new PrintStream(log, true, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.port() + path;
    }

    HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(60));
        if (apiKey != null) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return b;
    }

    HttpResponse<String> get(String path) {
        return send(request(path).GET().build());
    }

    HttpResponse<String> post(String path, String json) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static JsonNode json(HttpResponse<String> response) {
        try {
            return Fields.MAPPER.readTree(response.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON (" + response.statusCode() + "): " + response.body(), e);
        }
    }

    String log() {
        return log.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        server.close();
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
