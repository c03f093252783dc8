package dev.mdx.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mdx.MdxException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A bounded load test against a running server on this machine: {@code requests} generation requests from
 * {@code clients} concurrent clients, each sending its next request when the previous one is answered. It counts
 * every request's fate (an image, a 429, another clear JSON error, or lost: no answer, or an answer that is
 * neither), measures latency percentiles and throughput, and reads the server's resident memory from its metrics
 * before and after. It refuses any address that is not loopback, and it stops after the last request or the time
 * limit, whichever comes first.
 */
public final class LoadTest {
    /**
     * @param url the server, e.g. http://127.0.0.1:7860 (loopback only)
     * @param requests requests in all
     * @param clients concurrent clients
     * @param steps sampling steps per request (1 and 8 pick the bundled models' students)
     * @param model model to ask for, or null for the server's default
     * @param apiKey sent as a Bearer token, or null
     * @param timeLimit the run stops sending after this, and waits at most the request timeout more
     * @param requestTimeout a request unanswered after this is counted as lost
     */
    public record Settings(URI url, int requests, int clients, int steps, String model, String apiKey,
            Duration timeLimit, Duration requestTimeout) {
        public Settings {
            if (requests < 1 || requests > 100_000) {
                throw new MdxException("requests must be between 1 and 100000, got " + requests);
            }
            if (clients < 1 || clients > 256) {
                throw new MdxException("clients must be between 1 and 256, got " + clients);
            }
            if (steps < 1) {
                throw new MdxException("steps must be at least 1, got " + steps);
            }
        }
    }

    /** What happened, in numbers. */
    public record Report(int requests, int clients, int steps, int images, int rejected429, Map<Integer, Integer>
            otherErrors, int lost, double seconds, double p50Ms, double p95Ms, double p99Ms, long rssBeforeBytes,
            long rssAfterBytes, double meanBatchImages, double serverCpuMsPerImage) {
        public double imagesPerSecond() {
            return images / seconds;
        }

        /** One line for people. */
        public String summary() {
            return String.format(Locale.ROOT, "%d requests from %d clients at %d step%s: %.2f images/s, latency p50"
                    + " %.0f ms, p95 %.0f ms, p99 %.0f ms; %d images, %d rejected (429), %d other errors %s, %d lost;"
                    + " mean UNet batch %.1f images; server CPU %.0f ms per image; server RSS %.0f MB before, %.0f MB"
                    + " after (%+.0f MB) in %.1f s",
                    requests, clients, steps, steps == 1 ? "" : "s", imagesPerSecond(), p50Ms, p95Ms, p99Ms, images,
                    rejected429, otherErrors.values().stream().mapToInt(Integer::intValue).sum(), otherErrors, lost,
                    meanBatchImages, serverCpuMsPerImage, rssBeforeBytes / 1e6, rssAfterBytes / 1e6,
                    (rssAfterBytes - rssBeforeBytes) / 1e6, seconds);
        }
    }

    /** Emoji-like prompts, so requests differ as real ones do. */
    private static final List<String> PROMPTS = List.of("a red apple", "a smiling sun", "a green tree", "a dog",
            "a blue car", "a slice of pizza", "a cat face", "a yellow star", "a rocket", "a house with a red roof",
            "a heart", "a birthday cake", "a snowman", "a banana", "an owl", "a pine tree");
    private static final Pattern RSS = Pattern.compile("(?m)^process_resident_memory_bytes\\S* ([0-9.eE+]+)$");
    private static final Pattern BATCH = Pattern.compile("(?m)^mdx_batch_images_(sum|count)\\S* ([0-9.eE+]+)$");
    /** The server's CPU time: on a shared machine, CPU per image varies far less than wall time. */
    private static final Pattern CPU = Pattern.compile("(?m)^process_cpu_time_ns_total\\S* ([0-9.eE+]+)$");

    private final Settings settings;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    public LoadTest(Settings settings) {
        this.settings = settings;
        requireLoopback(settings.url());
    }

    /** Only this machine: a load test sends traffic nowhere else. */
    static void requireLoopback(URI url) {
        if (!"http".equals(url.getScheme()) || url.getHost() == null) {
            throw new MdxException("the load test needs an http:// URL of this machine, got " + url);
        }
        try {
            for (InetAddress a : InetAddress.getAllByName(url.getHost())) {
                if (!a.isLoopbackAddress()) {
                    throw new MdxException("the load test only targets this machine (a loopback address such as"
                            + " 127.0.0.1); " + url.getHost() + " is " + a.getHostAddress());
                }
            }
        } catch (UnknownHostException e) {
            throw new MdxException("unknown host " + url.getHost());
        }
    }

    public Report run(PrintStream progress) {
        Map<String, Double> before = metrics();
        AtomicInteger next = new AtomicInteger();
        List<Double> latencies = new CopyOnWriteArrayList<>();
        Map<Integer, Integer> errors = new ConcurrentHashMap<>();
        AtomicInteger images = new AtomicInteger();
        AtomicInteger rejected = new AtomicInteger();
        AtomicInteger lost = new AtomicInteger();
        AtomicInteger answered = new AtomicInteger();
        long start = System.nanoTime();
        long stopSending = start + settings.timeLimit().toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < settings.clients(); c++) {
            Thread t = new Thread(() -> {
                int i;
                while ((i = next.getAndIncrement()) < settings.requests() && System.nanoTime() < stopSending) {
                    long sent = System.nanoTime();
                    Outcome o = send(i);
                    double ms = (System.nanoTime() - sent) / 1e6;
                    switch (o.kind) {
                        case IMAGE -> {
                            images.addAndGet(o.images);
                            latencies.add(ms);
                        }
                        case REJECTED -> rejected.incrementAndGet();
                        case ERROR -> errors.merge(o.status, 1, Integer::sum);
                        case LOST -> lost.incrementAndGet();
                    }
                    int n = answered.incrementAndGet();
                    if (progress != null && n % 20 == 0) {
                        progress.printf(Locale.ROOT, "  %d/%d answered%n", n, settings.requests());
                    }
                }
            }, "mdx-load-client-" + c);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MdxException("interrupted");
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int notSent = Math.max(0, settings.requests() - answered.get());
        Map<String, Double> after = metrics();
        List<Double> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        double batches = after.getOrDefault("batch_count", 0.0) - before.getOrDefault("batch_count", 0.0);
        double batchImages = after.getOrDefault("batch_sum", 0.0) - before.getOrDefault("batch_sum", 0.0);
        return new Report(settings.requests() - notSent, settings.clients(), settings.steps(), images.get(),
                rejected.get(), new TreeMap<>(errors), lost.get(), seconds, percentile(sorted, 50),
                percentile(sorted, 95), percentile(sorted, 99), before.getOrDefault("rss", -1.0).longValue(),
                after.getOrDefault("rss", -1.0).longValue(), batches > 0 ? batchImages / batches : 0,
                images.get() > 0 ? (after.getOrDefault("cpu", 0.0) - before.getOrDefault("cpu", 0.0)) / 1e6
                        / images.get() : Double.NaN);
    }

    private enum Kind { IMAGE, REJECTED, ERROR, LOST }

    private record Outcome(Kind kind, int status, int images) {}

    private Outcome send(int i) {
        ObjectNode request = Fields.MAPPER.createObjectNode().put("prompt", PROMPTS.get(i % PROMPTS.size()))
                .put("steps", settings.steps()).put("seed", i);
        if (settings.model() != null) {
            request.put("model", settings.model());
        }
        String body = request.toString();
        HttpRequest.Builder b = HttpRequest.newBuilder(settings.url().resolve("/v1/images/generations"))
                .timeout(settings.requestTimeout()).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (settings.apiKey() != null) {
            b.header("Authorization", "Bearer " + settings.apiKey());
        }
        HttpResponse<String> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return new Outcome(Kind.LOST, 0, 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(Kind.LOST, 0, 0);
        }
        JsonNode json;
        try {
            json = Fields.MAPPER.readTree(r.body());
        } catch (IOException e) {
            return new Outcome(Kind.LOST, r.statusCode(), 0);
        }
        if (r.statusCode() == 200 && json.path("data").size() > 0
                && !json.path("data").get(0).path("b64_json").asText().isEmpty()) {
            return new Outcome(Kind.IMAGE, 200, json.path("data").size());
        }
        if (r.statusCode() != 200 && !json.path("error").path("message").asText().isEmpty()) {
            return new Outcome(r.statusCode() == 429 ? Kind.REJECTED : Kind.ERROR, r.statusCode(), 0);
        }
        return new Outcome(Kind.LOST, r.statusCode(), 0);
    }

    /** The server's resident memory and batch-size totals from its /metrics. */
    private Map<String, Double> metrics() {
        HttpRequest.Builder b = HttpRequest.newBuilder(settings.url().resolve("/metrics"))
                .timeout(Duration.ofSeconds(30));
        if (settings.apiKey() != null) {
            b.header("Authorization", "Bearer " + settings.apiKey());
        }
        String text;
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new MdxException("GET /metrics answered " + r.statusCode() + ": " + r.body());
            }
            text = r.body();
        } catch (IOException e) {
            throw new MdxException("no mdx server answers at " + settings.url() + " (" + e + "); start one with"
                    + " 'mdx serve'");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MdxException("interrupted");
        }
        Map<String, Double> out = new TreeMap<>();
        Matcher m = RSS.matcher(text);
        if (m.find()) {
            out.put("rss", Double.parseDouble(m.group(1)));
        }
        Matcher cm = CPU.matcher(text);
        if (cm.find()) {
            out.put("cpu", Double.parseDouble(cm.group(1)));
        }
        Matcher bm = BATCH.matcher(text);
        while (bm.find()) {
            out.put("batch_" + bm.group(1), Double.parseDouble(bm.group(2)));
        }
        return out;
    }

    /** Nearest-rank percentile. */
    static double percentile(List<Double> sorted, double p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }
}
