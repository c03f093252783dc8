package dev.mdx.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.mdx.MdxException;
import dev.mdx.io.StateDicts;
import dev.mdx.models.ArchitecturePresets;
import dev.mdx.nn.Module;
import dev.mdx.tensor.Precision;
import dev.mdx.text.ClipTextModel;
import dev.mdx.unet.UNet2DConditionModel;
import dev.mdx.vae.AutoencoderKL;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tiny presets at tiny sizes, timed in this JVM: rows, FLOPs and rates against a 100 GFLOP/s peak. */
class InProcessBenchTest {
    private static final String PRESET = "mobilediffusion-tiny-fashion";

    @TempDir
    Path dir;

    private final List<String> lines = new ArrayList<>();

    private InProcessBench bench(List<String> components, boolean skipLoad, Path profileDir) {
        BenchSettings settings = new BenchSettings(components, 4, 16, List.of(1, 2), 1, 0, 1, skipLoad, profileDir,
                null);
        return new InProcessBench(settings, 100, lines::add);
    }

    private static List<String> operations(List<BenchRow> rows) {
        return rows.stream().map(BenchRow::operation).toList();
    }

    @Test
    void timesEachComponentInOrderAgainstThePeak() {
        List<BenchRow> rows = bench(List.of("text", "unet", "vae", "train"), true, null).preset(PRESET);
        assertEquals(List.of("text encoder random init", "text encoder b1", "unet random init", "unet b1 4x4",
                "unet b2 4x4", "vae decode 16x16", "unet train step b1 8x8"), operations(rows),
                "the train step runs at the UNet's sample_size");
        assertTrue(rows.get(3).flops() > 0, "a UNet forward counts its matrix work");
        for (BenchRow row : rows) {
            assertEquals(PRESET, row.model());
            if (row.flops() > 0) {
                double rate = row.flops() / (row.ms() / 1000) / 1e9;
                assertEquals(rate, row.gflops(), 1e-9 * rate);
                assertEquals(rate, row.percentOfPeak(), 1e-9 * rate, "percent of a 100 GFLOP/s peak");
            }
        }
        assertEquals(rows.size(), lines.size(), "a progress line per row: " + lines);
        assertTrue(lines.get(3).matches("  " + PRESET + " +unet b1 4x4 +[0-9.]+ ms"), lines.get(3));
    }

    @Test
    void unlessSkippedWeightsAreWrittenAndTheirLoadIsTimed() {
        List<BenchRow> rows = bench(List.of("unet"), false, null).preset(PRESET);
        assertTrue(rows.get(0).operation().matches("unet load \\([1-9][0-9]* MB\\)"), rows.get(0).operation());
        assertTrue(rows.get(0).ms() > 0);
    }

    @Test
    void profilingWritesATracePerOperationAndPrintsTheTopOps() {
        Path traces = dir.resolve("prof");
        InProcessBench bench = new InProcessBench(new BenchSettings(List.of("unet"), 4, 16, List.of(1), 1, 0, 1, true,
                traces, null), 100, lines::add);
        bench.preset(PRESET);
        assertTrue(Files.isRegularFile(traces.resolve(PRESET + "-unet_b1_4x4.json")), lines.toString());
        String out = String.join("\n", lines);
        assertTrue(out.contains("ms of op self time by op"), out);
        assertTrue(out.contains("aten::mkldnn_convolution") || out.contains("aten::convolution")
                || out.contains("aten::_slow_conv2d_forward"), "a UNet's top ops include its convolutions: " + out);
    }

    @Test
    void aPresetIsCheckedBeforeAnythingRuns() {
        InProcessBench bench = new InProcessBench(new BenchSettings(List.of("text", "vae"), 4, 13, List.of(1), 1, 0,
                1, true, null, null), 100, lines::add);
        assertThrows(MdxException.class, () -> bench.preset("mobilediffusion-tiny"));
        assertEquals(List.of(), lines, "the text encoder was not timed first");
    }

    @Test
    void aPipelineFolderIsTimedAtItsUNetsSampleSizeAfterEachLoad() throws Exception {
        Path folder = dir.resolve("tiny");
        try (NDManager m = NDManager.newBaseManager()) {
            save(folder.resolve("unet"), "unet", "diffusion_pytorch_model.safetensors",
                    UNet2DConditionModel.fromConfig(ArchitecturePresets.unet(PRESET)), m);
            save(folder.resolve("vae"), "vae", "diffusion_pytorch_model.safetensors",
                    new AutoencoderKL(ArchitecturePresets.vae(PRESET)), m);
            save(folder.resolve("text_encoder"), "text_encoder", "model.safetensors",
                    new ClipTextModel(ArchitecturePresets.textEncoder(PRESET)), m);
        }
        List<BenchRow> rows = bench(List.of("unet"), true, null).folder(folder);
        assertEquals(List.of("unet load", "unet b1 8x8", "unet b2 8x8", "vae load", "vae decode 32x32",
                "text encoder load", "text encoder b1"), operations(rows));
        assertTrue(rows.stream().allMatch(r -> r.model().equals("tiny")));
    }

    @Test
    void endToEndTimesEachPartAndTheTotalsAtEachStepCount() {
        BenchSettings settings = new BenchSettings(List.of("e2e"), 4, 16, List.of(1), 1, 0, 2, true, null, null,
                List.of(1, 3), true, true, Precision.FP32);
        List<BenchRow> rows = new InProcessBench(settings, 100, lines::add).preset(PRESET);
        assertEquals(List.of("e2e 1 step cfg: text encoder b2", "e2e 1 step cfg: unet 1 x b2",
                "e2e 1 step cfg: vae decode 16x16", "e2e 1 step cfg: total, full decoder",
                "e2e 3 steps cfg: text encoder b2", "e2e 3 steps cfg: unet 3 x b2", "e2e 3 steps cfg: vae decode 16x16",
                "e2e 3 steps cfg: total, full decoder"), operations(rows), "the fashion preset has no light decoder");
        for (int s = 0; s < 2; s++) {
            List<BenchRow> run = rows.subList(4 * s, 4 * s + 4);
            assertTrue(run.stream().allMatch(r -> r.flops() > 0 && r.ms() > 0), run.toString());
            assertEquals(run.get(0).flops() + run.get(1).flops() + run.get(2).flops(), run.get(3).flops(),
                    "the total counts text, UNet and decoder");
            assertTrue(run.get(3).cpuMs() > 0, "the total reports the CPU time of a run");
        }
        assertEquals(3 * rows.get(1).flops(), rows.get(5).flops(), "three UNet calls are three times one");
        assertEquals(rows.get(0).flops(), rows.get(4).flops());
    }

    @Test
    void bf16ComponentsRunInBf16() {
        BenchSettings fp32 = new BenchSettings(List.of("unet"), 4, 16, List.of(1), 1, 0, 1, true, null, null,
                List.of(1), false, true, Precision.FP32);
        BenchSettings bf16 = new BenchSettings(List.of("unet"), 4, 16, List.of(1), 1, 0, 1, true, null, null,
                List.of(1), false, true, Precision.BF16);
        List<BenchRow> a = new InProcessBench(fp32, 100, lines::add).preset(PRESET);
        List<BenchRow> b = new InProcessBench(bf16, 100, lines::add).preset(PRESET);
        assertEquals(a.get(1).flops(), b.get(1).flops(), "bf16 layers count the same matrix work");
        assertEquals(Precision.FP32, Precision.current(), "the bench restores the thread's precision");
    }

    /** A diffusers component folder: the preset's config.json and random weights. */
    private static void save(Path componentDir, String component, String weightsFile, Module module, NDManager m)
            throws Exception {
        Files.createDirectories(componentDir);
        try (InputStream config = InProcessBenchTest.class.getResourceAsStream(
                "/dev/mdx/presets/" + PRESET + "/" + component + ".json")) {
            Files.copy(config, componentDir.resolve("config.json"));
        }
        StateDicts.initRandom(module, m, 1);
        StateDicts.save(module, componentDir.resolve(weightsFile), Map.of("format", "pt"));
    }
}
