package dev.mdx.cli;

import dev.mdx.serve.MdxServer;
import dev.mdx.serve.ServeConfig;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs the HTTP server: parses flags into a {@link ServeConfig}; the serve module does the rest. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = {"Serve models over HTTP: OpenAI's /v1/images/generations, A1111's /sdapi/v1/txt2img, a web page"
                + " at /, /health and Prometheus /metrics. Loads the models once; Ctrl-C stops."},
        footer = {"", "Examples:", "  mdx serve                      (the emoji model on http://127.0.0.1:7860)",
            "  mdx serve -m emoji -m fashion --port 8080",
            "  MDX_API_KEY=secret mdx serve --host 0.0.0.0   (other machines can reach it: use a key)"})
public final class ServeCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
            description = "A bundled model by name or a diffusers pipeline folder; repeat to serve several (the first"
                    + " is the default). Default: emoji.")
    List<String> models;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = ServeConfig.DEFAULT_HOST,
            description = "Address to listen on (default: ${DEFAULT-VALUE}, this machine only).")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "" + ServeConfig.DEFAULT_PORT,
            description = "Port (default: ${DEFAULT-VALUE}, A1111's).")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Require 'Authorization: Bearer KEY' on the API (default: the " + ServeConfig.API_KEY_ENV
                    + " environment variable, else none).")
    String apiKey;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "1",
            description = "Generations running at once (default: ${DEFAULT-VALUE}; each runs a whole batch).")
    int workers;

    @Option(names = "--queue", paramLabel = "N", defaultValue = "64",
            description = "Requests that may wait for a worker; more get 429 with Retry-After (default: ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "8",
            description = "Images per model batch when concurrent requests share a model and size (default:"
                    + " ${DEFAULT-VALUE}; 1 turns dynamic batching off).")
    int maxBatch;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "120",
            description = "A request not finished after this gets 504 (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(names = "--max-images", paramLabel = "N", defaultValue = "16",
            description = "Most images per request (default: ${DEFAULT-VALUE}).")
    int maxImages;

    @Option(names = "--max-steps", paramLabel = "N", defaultValue = "150",
            description = "Most sampling steps per request (default: ${DEFAULT-VALUE}).")
    int maxSteps;

    @Option(names = "--max-prompt", paramLabel = "CHARS", defaultValue = "2000",
            description = "Longest prompt in characters (default: ${DEFAULT-VALUE}).")
    int maxPrompt;

    @Option(names = "--max-body-mb", paramLabel = "MB", defaultValue = "16",
            description = "Largest request body in MiB (default: ${DEFAULT-VALUE}).")
    int maxBodyMb;

    @Option(names = "--max-upload-mb", paramLabel = "MB", defaultValue = "8",
            description = "Largest uploaded image in MiB (default: ${DEFAULT-VALUE}).")
    int maxUploadMb;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Engine threads per operation (default: the library's choice per model).")
    Integer threads;

    @Option(names = "--web-dir", paramLabel = "DIR",
            description = "Also serve this folder (the repository's web/, after npm ci, with a model exported into"
                    + " DIR/model by mdx export onnx) at /browser/: the page that generates in the browser.")
    java.nio.file.Path webDir;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String key = apiKey != null ? apiKey : System.getenv(ServeConfig.API_KEY_ENV);
        ServeConfig config;
        try {
            config = ServeConfig.builder().host(host).port(port).models(models == null ? List.of("emoji") : models)
                    .apiKey(key == null || key.isEmpty() ? null : key).workers(workers).queueCapacity(queue)
                    .maxBatchImages(maxBatch).requestTimeout(Duration.ofSeconds(Math.max(1, timeoutSeconds)))
                    .maxImages(maxImages).maxSteps(maxSteps).maxPromptChars(maxPrompt)
                    .maxBodyBytes((long) maxBodyMb << 20).maxUploadBytes((long) maxUploadMb << 20)
                    .threads(threads == null ? null : ThreadsFlag.check(threads)).webDir(webDir).build();
        } catch (dev.mdx.MdxException e) {
            throw new UsageException(e.getMessage());
        }
        if (config.apiKey() == null && !loopback(host)) {
            err.println("mdx serve: warning: listening on " + host + " without an API key: anyone who can reach this"
                    + " machine can generate; set --api-key or " + ServeConfig.API_KEY_ENV);
        }
        err.println("mdx serve: loading " + String.join(", ", config.models()) + " ...");
        err.flush();
        MdxServer server = MdxServer.start(config, System.err);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "mdx-serve-shutdown"));
        // an IPv6 literal is bracketed in a URL
        String origin = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + server.port();
        out.printf("mdx serve: %s/ (models: %s%s)%n", origin, String.join(", ", server.models().names()),
                config.apiKey() != null ? "; API key required" : "");
        if (config.webDir() != null) {
            out.printf("mdx serve: the in-browser page from %s: %s%s/%n", config.webDir(), origin,
                    ServeConfig.WEB_DIR_PATH);
        }
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean loopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
