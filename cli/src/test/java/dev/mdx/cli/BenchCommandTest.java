package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mdx.io.JsonConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** mdx bench on the tiny presets at tiny sizes: the flags reach the bench package, the report reaches the JSON. */
class BenchCommandTest {
    @TempDir
    Path dir;

    private static final String[] SMALL = {"--latent", "4", "--image-size", "16", "--repeats", "1", "--warmup", "0",
        "--skip-load", "--gemm-peak", "100"};

    private static String[] args(String... extra) {
        List<String> all = new ArrayList<>(List.of("bench"));
        all.addAll(List.of(SMALL));
        all.addAll(List.of(extra));
        return all.toArray(String[]::new);
    }

    private static JsonNode runOk(Path json, String... extra) throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> a = new ArrayList<>(List.of(args(extra)));
        a.addAll(List.of("--json", json.toString()));
        int code = Main.run(a.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
        assertEquals(ExitCodes.OK, code, out + "\n" + err);
        assertTrue(out.toString().contains("| peak RSS (GB)"), out.toString());
        return JsonConfig.MAPPER.readTree(Files.readString(json));
    }

    @Test
    void inProcessFlagsReachTheRunAndTheReport() throws Exception {
        Path traces = dir.resolve("prof");
        JsonNode doc = runOk(dir.resolve("b.json"), "--in-process", "--preset", "mobilediffusion-tiny-fashion",
                "--components", "vae,unet", "--batch", "1,2", "--profile", traces.toString());
        assertEquals(100.0, doc.get("gemm_peak_gflops").asDouble());
        assertEquals(4, doc.get("latent").asInt());
        assertEquals(16, doc.get("image_size").asInt());
        assertEquals("default", doc.get("engine_threads").asText());
        List<String> operations = new ArrayList<>();
        doc.get("rows").forEach(row -> operations.add(row.get("operation").asText()));
        assertEquals(List.of("vae decode 16x16", "unet random init", "unet b1 4x4", "unet b2 4x4"), operations);
        assertTrue(doc.get("peak_rss_bytes").get("mobilediffusion-tiny-fashion").asLong() > 0);
        assertTrue(Files.isRegularFile(traces.resolve("mobilediffusion-tiny-fashion-unet_b1_4x4.json")));
    }

    @Test
    void eachPresetRunsInItsOwnJvm() throws Exception {
        JsonNode doc = runOk(dir.resolve("c.json"), "--preset", "mobilediffusion-tiny-fashion",
                "--components", "unet", "--batch", "1");
        JsonNode rows = doc.get("rows");
        assertEquals(2, rows.size(), rows.toString());
        assertEquals("unet b1 4x4", rows.get(1).get("operation").asText());
        assertTrue(rows.get(1).get("flops").asLong() > 0);
        long rss = doc.get("peak_rss_bytes").get("mobilediffusion-tiny-fashion").asLong();
        assertTrue(rss > 0, "the child's own peak RSS");
    }

    @Test
    void settingsThatCannotRunAreUsageErrorsBeforeAnythingRuns() {
        for (String[] bad : new String[][] {{"--preset", "nope"}, {"--components", "gpu"}, {"--repeats", "0"},
            {"--preset", "mobilediffusion-tiny", "--components", "text,vae", "--image-size", "13"}}) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = Main.run(args(bad), new PrintWriter(out), new PrintWriter(err));
            assertEquals(ExitCodes.USAGE, code, err.toString());
            assertEquals("", out.toString(), "nothing was timed");
        }
    }
}
