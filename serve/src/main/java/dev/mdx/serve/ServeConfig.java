package dev.mdx.serve;

import dev.mdx.MdxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How the server runs: where it listens, which models it serves, who may call it, and the limits that keep one
 * caller from taking the machine.
 *
 * @param host address to bind; loopback by default, so nothing outside this machine can reach the server unless
 *     asked for
 * @param port TCP port; 0 picks a free one (tests)
 * @param models bundled model names or diffusers folders; the first is the default
 * @param apiKey when set, every API call needs {@code Authorization: Bearer KEY}
 * @param workers generation workers (batches running at once)
 * @param queueCapacity requests waiting for a worker; one more gets 429 with Retry-After
 * @param maxBatchImages images one UNet batch may hold (dynamic batching); 1 turns batching off
 * @param requestTimeout a request still waiting or generating after this gets 504
 * @param maxBodyBytes largest request body
 * @param maxUploadBytes largest uploaded image (decoded from base64)
 * @param maxPromptChars longest prompt or negative prompt
 * @param maxImages most images one request may ask for
 * @param maxPixels largest width x height
 * @param maxSteps most sampling steps
 * @param threads engine threads per operation, or null for the library's choice per model
 * @param webDir a static folder served under {@link #WEB_DIR_PATH} (the in-browser page, web/, with an exported
 *     model in it), or null for none
 */
public record ServeConfig(String host, int port, List<String> models, String apiKey, int workers, int queueCapacity,
        int maxBatchImages, Duration requestTimeout, long maxBodyBytes, long maxUploadBytes, int maxPromptChars,
        int maxImages, long maxPixels, int maxSteps, Integer threads, Path webDir) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 7860;
    /** The environment variable read for the API key when {@code --api-key} is not given. */
    public static final String API_KEY_ENV = "MDX_API_KEY";
    /** Where {@code --web-dir}'s files are served. */
    public static final String WEB_DIR_PATH = "/browser";

    public ServeConfig {
        Objects.requireNonNull(host, "host");
        models = List.copyOf(models);
        if (models.isEmpty()) {
            throw new MdxException("no model to serve");
        }
        if (port < 0 || port > 65535) {
            throw new MdxException("port must be between 0 and 65535, got " + port);
        }
        if (apiKey != null && apiKey.isBlank()) {
            throw new MdxException("the API key is empty");
        }
        positive("workers", workers);
        positive("queue capacity", queueCapacity);
        positive("max batch", maxBatchImages);
        positive("max prompt length", maxPromptChars);
        positive("max images", maxImages);
        positive("max steps", maxSteps);
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new MdxException("the request timeout must be positive, got " + requestTimeout);
        }
        if (maxBodyBytes < 1024 || maxUploadBytes < 1 || maxPixels < 1) {
            throw new MdxException("body, upload and pixel limits must be positive (the body at least 1 KiB)");
        }
        if (webDir != null) {
            webDir = webDir.toAbsolutePath().normalize();
            if (!Files.isRegularFile(webDir.resolve("index.html"))) {
                throw new MdxException("--web-dir " + webDir + ": no index.html there (the page is the repository's"
                        + " web/ folder)");
            }
        }
    }

    private static void positive(String what, int value) {
        if (value < 1) {
            throw new MdxException(what + " must be at least 1, got " + value);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Defaults sized for this project's 2-core machines and its small models. */
    public static final class Builder {
        private String host = DEFAULT_HOST;
        private int port = DEFAULT_PORT;
        private List<String> models = List.of("emoji");
        private String apiKey;
        private int workers = 1;
        private int queueCapacity = 64;
        private int maxBatchImages = 8;
        private Duration requestTimeout = Duration.ofSeconds(120);
        private long maxBodyBytes = 16L << 20;
        private long maxUploadBytes = 8L << 20;
        private int maxPromptChars = 2000;
        private int maxImages = 16;
        private long maxPixels = 1024L * 1024;
        private int maxSteps = 150;
        private Integer threads;
        private Path webDir;

        private Builder() {}

        public Builder host(String v) {
            host = v;
            return this;
        }

        public Builder port(int v) {
            port = v;
            return this;
        }

        public Builder models(List<String> v) {
            models = v;
            return this;
        }

        public Builder apiKey(String v) {
            apiKey = v;
            return this;
        }

        public Builder workers(int v) {
            workers = v;
            return this;
        }

        public Builder queueCapacity(int v) {
            queueCapacity = v;
            return this;
        }

        public Builder maxBatchImages(int v) {
            maxBatchImages = v;
            return this;
        }

        public Builder requestTimeout(Duration v) {
            requestTimeout = v;
            return this;
        }

        public Builder maxBodyBytes(long v) {
            maxBodyBytes = v;
            return this;
        }

        public Builder maxUploadBytes(long v) {
            maxUploadBytes = v;
            return this;
        }

        public Builder maxPromptChars(int v) {
            maxPromptChars = v;
            return this;
        }

        public Builder maxImages(int v) {
            maxImages = v;
            return this;
        }

        public Builder maxPixels(long v) {
            maxPixels = v;
            return this;
        }

        public Builder maxSteps(int v) {
            maxSteps = v;
            return this;
        }

        public Builder threads(Integer v) {
            threads = v;
            return this;
        }

        public Builder webDir(Path v) {
            webDir = v;
            return this;
        }

        public ServeConfig build() {
            return new ServeConfig(host, port, models, apiKey, workers, queueCapacity, maxBatchImages, requestTimeout,
                    maxBodyBytes, maxUploadBytes, maxPromptChars, maxImages, maxPixels, maxSteps, threads, webDir);
        }
    }
}
