package dev.mdx.serve;

import dev.mdx.bench.ResidentMemory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;

/**
 * The server's counters in Prometheus' text format ({@code GET /metrics}): requests by API and outcome, request
 * latency and queue wait as histograms, queue length, running generations, images generated and images per second
 * over the last minute, UNet batch sizes, resident memory and the native arrays the models hold, plus the JVM's.
 */
public final class ServerMetrics implements AutoCloseable {
    /** Images-per-second gauge window. */
    private static final long WINDOW_NANOS = Duration.ofSeconds(60).toNanos();

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final DistributionSummary batchImages;
    private final Timer queueWait;
    /** Finish times of recent images, for the per-minute rate. */
    private final Deque<Long> recentImages = new ArrayDeque<>();

    public ServerMetrics() {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        gc.bindTo(registry);
        Gauge.builder("process_resident_memory_bytes", ResidentMemory::currentBytes)
                .description("Resident set size of the server process, native engine memory included")
                .register(registry);
        Gauge.builder("mdx_images_per_second", this, ServerMetrics::imagesPerSecond)
                .description("Images generated per second over the last minute")
                .register(registry);
        batchImages = DistributionSummary.builder("mdx_batch_images")
                .description("Images per UNet batch (dynamic batching)")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32)
                .register(registry);
        queueWait = Timer.builder("mdx_queue_wait_seconds")
                .description("Time from admission to the start of generation")
                .publishPercentileHistogram()
                .register(registry);
    }

    /** Gauges read on every scrape: queue length, running generations, native arrays. */
    void bindQueue(Supplier<Number> queued, Supplier<Number> running, Supplier<Number> nativeArrays) {
        Gauge.builder("mdx_queue_length", queued).description("Requests waiting for a worker").register(registry);
        Gauge.builder("mdx_generations_running", running).description("Requests being generated")
                .register(registry);
        Gauge.builder("mdx_native_arrays", nativeArrays)
                .description("Native arrays the models hold (weights plus running work); flat between requests")
                .register(registry);
    }

    /** A finished request: {@code api} openai, a1111 or mdx; {@code outcome} ok, invalid, rejected, ... */
    void request(String api, String outcome, long nanos) {
        Counter.builder("mdx_requests_total").description("Generation requests by API and outcome")
                .tag("api", api).tag("outcome", outcome).register(registry).increment();
        Timer.builder("mdx_request_duration_seconds").description("Generation request latency, admission to response")
                .tag("api", api).publishPercentileHistogram().register(registry).record(Duration.ofNanos(nanos));
    }

    /** A request refused before it reached generation (auth, bad input, full queue), without latency. */
    void refused(String api, String outcome) {
        Counter.builder("mdx_requests_total").description("Generation requests by API and outcome")
                .tag("api", api).tag("outcome", outcome).register(registry).increment();
    }

    void images(String model, int count) {
        Counter.builder("mdx_images_generated_total").description("Images generated").tag("model", model)
                .register(registry).increment(count);
        long now = System.nanoTime();
        synchronized (recentImages) {
            for (int i = 0; i < count; i++) {
                recentImages.addLast(now);
            }
            trim(now);
        }
    }

    void batch(int images) {
        batchImages.record(images);
    }

    void queueWait(long nanos) {
        queueWait.record(Duration.ofNanos(nanos));
    }

    private double imagesPerSecond() {
        long now = System.nanoTime();
        synchronized (recentImages) {
            trim(now);
            return recentImages.size() / (WINDOW_NANOS / 1e9);
        }
    }

    private void trim(long now) {
        while (!recentImages.isEmpty() && now - recentImages.peekFirst() > WINDOW_NANOS) {
            recentImages.removeFirst();
        }
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
