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

/** mdx bench on the tiny presets at tiny sizes: rows, FLOPs, rates and the per-preset peak RSS in the JSON. */
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
    void inProcessTimesEveryComponentAgainstThePeak() throws Exception {
        JsonNode doc = runOk(dir.resolve("b.json"), "--in-process", "--preset", "mobilediffusion-tiny-fashion",
                "--components", "text,unet,vae,train", "--batch", "1,2", "--train-batch", "1");
        assertEquals(100.0, doc.get("gemm_peak_gflops").asDouble());
        List<String> operations = new ArrayList<>();
        for (JsonNode row : doc.get("rows")) {
            operations.add(row.get("operation").asText());
            if (row.get("flops").asLong() > 0) {
                double rate = row.get("flops").asLong() / (row.get("ms").asDouble() / 1000) / 1e9;
                assertEquals(rate, row.get("gflops").asDouble(), 1e-9 * rate);
                assertEquals(rate, row.get("percentOfPeak").asDouble(), 1e-9 * rate, "percent of a 100 GFLOP/s peak");
            }
        }
        assertEquals(List.of("text encoder random init", "text encoder b1", "unet random init", "unet b1 4x4",
                "unet b2 4x4", "vae decode 16x16", "unet train step b1 8x8"), operations);
        assertTrue(doc.get("peak_rss_bytes").get("mobilediffusion-tiny-fashion").asLong() > 0);
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
    void profileWritesATracePerOperationAndPrintsTheTopOps() throws Exception {
        Path traces = dir.resolve("prof");
        StringWriter out = new StringWriter();
        int code = Main.run(args("--in-process", "--preset", "mobilediffusion-tiny-fashion", "--components", "unet",
                "--batch", "1", "--profile", traces.toString()), new PrintWriter(out), new PrintWriter(new StringWriter()));
        assertEquals(ExitCodes.OK, code, out.toString());
        Path trace = traces.resolve("mobilediffusion-tiny-fashion-unet_b1_4x4.json");
        assertTrue(Files.isRegularFile(trace), out.toString());
        assertTrue(out.toString().contains("ms of op self time by op"), out.toString());
        assertTrue(out.toString().contains("aten::mkldnn_convolution") || out.toString().contains("aten::convolution")
                || out.toString().contains("aten::_slow_conv2d_forward"), "a UNet's top ops include its convolutions: "
                + out);
    }

    @Test
    void unknownPresetOrComponentIsAUsageError() {
        for (String[] bad : new String[][] {{"--preset", "nope"}, {"--components", "gpu"}}) {
            StringWriter err = new StringWriter();
            int code = Main.run(args(bad), new PrintWriter(new StringWriter()), new PrintWriter(err));
            assertEquals(ExitCodes.USAGE, code, err.toString());
        }
    }
}
