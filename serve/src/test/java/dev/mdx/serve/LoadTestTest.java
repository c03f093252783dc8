package dev.mdx.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mdx.MdxException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The load test counts every request's fate against a real server, and targets only this machine. */
class LoadTestTest {
    private static LoadTest.Settings settings(TestServer s, int requests, int clients, int steps) {
        return new LoadTest.Settings(URI.create(s.url("")), requests, clients, steps, null, null,
                Duration.ofSeconds(120), Duration.ofSeconds(60));
    }

    @Test
    void everyRequestGetsAnImageAndTheReportAddsUp() throws Exception {
        try (TestServer s = new TestServer(b -> b.workers(1).maxBatchImages(8))) {
            LoadTest.Report r = new LoadTest(settings(s, 24, 6, 1)).run(null);
            assertEquals(24, r.requests());
            assertEquals(24, r.images());
            assertEquals(0, r.lost());
            assertEquals(0, r.rejected429());
            assertTrue(r.p50Ms() <= r.p95Ms() && r.p95Ms() <= r.p99Ms(), r.summary());
            assertTrue(r.rssBeforeBytes() > 0 && r.rssAfterBytes() > 0, r.summary());
            assertTrue(r.meanBatchImages() >= 1, r.summary());
            assertTrue(r.serverCpuMsPerImage() > 0, r.summary());
            assertTrue(r.summary().startsWith("24 requests from 6 clients at 1 step:"), r.summary());
        }
    }

    @Test
    void refusalsAreCountedApartFromLostRequests() throws Exception {
        try (TestServer s = new TestServer(b -> b.workers(1).queueCapacity(1))) {
            LoadTest.Report r = new LoadTest(settings(s, 16, 8, 100)).run(null);
            assertTrue(r.rejected429() > 0, r.summary());
            assertEquals(16, r.images() + r.rejected429(), r.summary());
            assertEquals(0, r.lost());
        }
    }

    @Test
    void onlyLoopbackAddressesAreTargets() {
        for (String url : List.of("http://10.1.2.3:7860", "http://192.168.0.1", "https://127.0.0.1:7860", "ftp://x")) {
            MdxException e = assertThrows(MdxException.class, () -> LoadTest.requireLoopback(URI.create(url)));
            assertTrue(e.getMessage().contains("this machine"), e.getMessage());
        }
        LoadTest.requireLoopback(URI.create("http://127.0.0.1:7860"));
        LoadTest.requireLoopback(URI.create("http://[::1]:7860"));
        LoadTest.requireLoopback(URI.create("http://localhost:7860"));
    }

    @Test
    void percentilesAreNearestRank() {
        List<Double> sorted = List.of(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0);
        assertEquals(5.0, LoadTest.percentile(sorted, 50));
        assertEquals(10.0, LoadTest.percentile(sorted, 95));
        assertEquals(1.0, LoadTest.percentile(sorted, 1));
        assertTrue(Double.isNaN(LoadTest.percentile(List.of(), 50)));
    }
}
