package dev.mdx.serve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.staticfiles.Location;
import io.javalin.http.staticfiles.StaticFileConfig;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The HTTP server: Javalin on Jetty, serving the OpenAI and A1111 APIs, mdx's page support, the web page from the
 * jar, {@code /health} and Prometheus {@code /metrics}, in front of a {@link GenerationQueue}; with
 * {@code --web-dir} also the in-browser page (web/) under {@code /browser/}, which generates on the user's machine.
 *
 * <p>Requests under {@code /v1/}, {@code /sdapi/}, {@code /mdx/} and {@code /metrics} need
 * {@code Authorization: Bearer KEY} when the server has an API key; the page's files and {@code /health} do not
 * (the page asks for the key). Every error is one JSON object ({@link ErrorResponses}).
 */
public final class MdxServer implements AutoCloseable {
    /** Request attribute: the outcome a streamed response ended with (its status is 200 whatever happened). */
    static final String OUTCOME = "mdx.outcome";
    private static final String STARTED = "mdx.started";
    private static final Set<String> PROTECTED = Set.of("/v1/", "/sdapi/", "/mdx/", "/metrics");
    private static final Map<String, String> GENERATION_APIS = Map.of("/v1/images/generations", "openai",
            "/sdapi/v1/txt2img", "a1111", "/sdapi/v1/img2img", "a1111");

    private final ServeConfig config;
    private final ModelRegistry models;
    private final ServerMetrics metrics;
    private final GenerationQueue queue;
    private final Javalin app;
    private final PrintStream log;
    private final byte[] keyDigest;

    private MdxServer(ServeConfig config, ModelRegistry models, PrintStream log) {
        this.config = config;
        this.models = models;
        this.log = log;
        this.keyDigest = config.apiKey() == null ? null : sha256(config.apiKey());
        this.metrics = new ServerMetrics();
        this.queue = new GenerationQueue(config.workers(), config.queueCapacity(), config.maxBatchImages(), metrics);
        metrics.bindQueue(queue::length, queue::runningCount, models::managedArrays);
        A1111Api[] a1111 = new A1111Api[1];
        Generator generator = new Generator(config, models, queue, () -> a1111[0].progressWatched(), log);
        a1111[0] = new A1111Api(generator, queue);
        OpenAiApi openAi = new OpenAiApi(generator);
        MdxApi mdx = new MdxApi(generator);
        this.app = Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.startup.showOldJavalinVersionWarning = false;
            c.http.maxRequestSize = config.maxBodyBytes();
            c.http.prefer405over404 = true;
            c.jetty.host = config.host();
            c.jetty.port = config.port();
            c.staticFiles.add("/web", Location.CLASSPATH);
            if (config.webDir() != null) {
                c.staticFiles.add(sf -> browserPage(sf, config.webDir()));
            }
            c.routes.before(this::before);
            c.routes.get("/health", this::health);
            c.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(metrics.scrape()));
            openAi.register(c.routes);
            a1111[0].register(c.routes);
            mdx.register(c.routes);
            c.routes.after(this::after);
            c.routes.exception(ApiException.class, (e, ctx) -> ErrorResponses.send(ctx, e));
            c.routes.exception(HttpResponseException.class, (e, ctx) -> ErrorResponses.send(ctx,
                    httpError(e, ctx)));
            c.routes.exception(Exception.class, (e, ctx) -> {
                generator.logInternalError(ctx.method() + " " + ctx.path(), e);
                ErrorResponses.send(ctx, new ApiException(500, "server_error", null,
                        ErrorResponses.internalMessage(e)));
            });
        });
    }

    /**
     * The in-browser page (web/) from a folder: its ES modules and WebAssembly need their content types, and the
     * cross-origin isolation headers let onnxruntime-web run on several threads.
     */
    private static void browserPage(StaticFileConfig sf, java.nio.file.Path dir) {
        sf.hostedPath = ServeConfig.WEB_DIR_PATH;
        sf.directory = dir.toString();
        sf.location = Location.EXTERNAL;
        sf.mimeTypes.add("text/javascript", "mjs");
        sf.mimeTypes.add("application/wasm", "wasm");
        sf.mimeTypes.add("application/octet-stream", "onnx");
        sf.headers = Map.of("Cross-Origin-Opener-Policy", "same-origin", "Cross-Origin-Embedder-Policy",
                "require-corp", "Cache-Control", "no-cache");
    }

    /** Loads the models and starts listening. */
    public static MdxServer start(ServeConfig config, PrintStream log) {
        ModelRegistry models = ModelRegistry.load(config.models(), config.threads());
        try {
            return start(config, models, log);
        } catch (RuntimeException e) {
            models.close();
            throw e;
        }
    }

    /** Starts listening with models already loaded (the server closes them when it closes). */
    public static MdxServer start(ServeConfig config, ModelRegistry models, PrintStream log) {
        MdxServer server = new MdxServer(config, models, log);
        try {
            server.app.start();
        } catch (RuntimeException e) {
            server.queue.close();
            server.metrics.close();
            throw new dev.mdx.MdxException("cannot listen on " + config.host() + ":" + config.port() + ": "
                    + rootMessage(e), e);
        }
        return server;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.toString();
    }

    public int port() {
        return app.port();
    }

    public ModelRegistry models() {
        return models;
    }

    private void before(Context ctx) {
        ctx.attribute(STARTED, System.nanoTime());
        if (keyDigest == null || PROTECTED.stream().noneMatch(p -> ctx.path().startsWith(p)
                || ctx.path().equals(p.replaceAll("/$", "")))) {
            return;
        }
        String header = ctx.header("Authorization");
        String given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
                ? header.substring(7).trim() : null;
        // both sides hashed to 32 bytes and compared in constant time: neither the key's bytes nor its length leak
        // through the time a wrong key takes to refuse
        if (given == null || !MessageDigest.isEqual(sha256(given), keyDigest)) {
            String api = GENERATION_APIS.get(ctx.path());
            if (api != null) {
                metrics.refused(api, "unauthorized");
            }
            ctx.header("WWW-Authenticate", "Bearer realm=\"mdx\"");
            throw new ApiException(401, "authentication_error", null, given == null
                    ? "this server needs an API key: send 'Authorization: Bearer KEY'"
                    : "the API key is not valid");
        }
    }

    /** Counts generation requests by outcome and times them. */
    private void after(Context ctx) {
        String api = GENERATION_APIS.get(ctx.path());
        Long started = ctx.attribute(STARTED);
        if (api == null || started == null || ctx.statusCode() == 401) {
            return;
        }
        String outcome = ctx.attribute(OUTCOME);
        if (outcome == null) {
            outcome = outcome(ctx.statusCode());
        }
        metrics.request(api, outcome, System.nanoTime() - started);
        log.printf(Locale.ROOT, "%s %s %d %s %.0f ms%n", ctx.method(), ctx.path(), ctx.statusCode(), outcome,
                (System.nanoTime() - started) / 1e6);
    }

    private static String outcome(int status) {
        return switch (status) {
            case 200 -> "ok";
            case 400, 404, 413 -> "invalid";
            case 409 -> "interrupted";
            case 429 -> "rejected";
            case 499 -> "client_gone";
            case 501 -> "not_implemented";
            case 503 -> "unavailable";
            case 504 -> "timeout";
            default -> "error";
        };
    }

    /** Javalin's own errors (no such route, wrong method, body too large) in the server's JSON shape. */
    private ApiException httpError(HttpResponseException e, Context ctx) {
        return switch (e.getStatus()) {
            case 404 -> ApiException.notFound(null, "no such endpoint: " + ctx.method() + " " + ctx.path());
            case 405 -> new ApiException(405, "invalid_request_error", null, ctx.method() + " is not allowed on "
                    + ctx.path());
            case 413 -> ApiException.tooLarge(null, "the body is larger than this server takes ("
                    + config.maxBodyBytes() + " bytes)");
            default -> new ApiException(e.getStatus(), "invalid_request_error", null, e.getMessage());
        };
    }

    private void health(Context ctx) {
        ObjectNode o = Fields.MAPPER.createObjectNode();
        o.put("status", "ok");
        o.set("models", Fields.MAPPER.valueToTree(models.names()));
        o.put("queue", queue.length());
        o.put("running", queue.runningCount());
        o.put("workers", config.workers());
        o.put("auth", keyDigest != null);
        Responses.json(ctx, o);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** Stops accepting, fails waiting requests with 503, stops running ones, then frees the models. */
    @Override
    public void close() {
        queue.close();
        app.stop();
        metrics.close();
        models.close();
    }
}
