package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.control.AdapterConfig;
import dev.mdx.control.ConditionType;
import dev.mdx.control.ControlAdapter;
import dev.mdx.io.ModelFolder;
import dev.mdx.io.PngWriter;
import dev.mdx.io.SafeTensorsWriter;
import dev.mdx.io.StateDicts;
import dev.mdx.pipeline.PipelineConfig;
import dev.mdx.tensor.EngineThreads;
import dev.mdx.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mdx generate --control-image / --control-from / --control-type / --control-scale / --adapter}. */
class GenerateControlCommandTest {
    private static int savedThreads;
    @TempDir
    static Path shared;
    private static Path micro;
    private static int size;

    @BeforeAll
    static void makeModel() throws IOException {
        savedThreads = EngineThreads.current();
        EngineThreads.set(1);
        micro = TestModels.microPipeline(shared.resolve("micro"));
        PipelineConfig config = PipelineConfig.read(ModelFolder.open(micro));
        size = config.defaults().width();
        AdapterConfig a = AdapterConfig.forUnet(config.unet(), config.vaeScaleFactor(), ConditionType.CANNY);
        try (NDManager m = NDManager.newBaseManager()) {
            ControlAdapter adapter = new ControlAdapter(a);
            StateDicts.initRandom(adapter, m, 4);
            Map<String, NDArray> values = new LinkedHashMap<>();
            adapter.namedParameters().forEach((k, p) -> values.put(k, p.get()));
            SafeTensorsWriter.write(Files.createDirectories(micro.resolve("adapters")).resolve("canny.safetensors"),
                    values, Map.of(AdapterConfig.METADATA_KEY, a.toJson()));
        }
    }

    @AfterAll
    static void restore() {
        EngineThreads.set(savedThreads);
    }

    private static CliRun generate(String... extra) {
        List<String> args = new ArrayList<>(List.of("generate", "-m", micro.toString(), "-p", "a fox", "--steps", "1",
                "-o", shared.resolve("out.png").toString()));
        args.addAll(List.of(extra));
        return CliRun.mdx(args.toArray(String[]::new));
    }

    private static Path png(String name, int w, int h, boolean colour) throws IOException {
        byte[] rgb = new byte[w * h * 3];
        for (int y = h / 4; y < 3 * h / 4; y++) {
            for (int x = w / 4; x < 3 * w / 4; x++) {
                int i = 3 * (y * w + x);
                rgb[i] = (byte) 220;
                rgb[i + 1] = (byte) (colour ? 20 : 220);
                rgb[i + 2] = (byte) (colour ? 20 : 220);
            }
        }
        Path file = shared.resolve(name);
        PngWriter.write(file, rgb, w, h, Map.of());
        return file;
    }

    @Test
    void aMapOrAPhotoDrivesTheModelsAdapter() throws IOException {
        CliRun map = generate("--control-image", png("map.png", size, size, false).toString(), "--control-scale",
                "0.5");
        assertEquals(0, map.code(), map.err());
        assertTrue(map.err().contains("note: control: canny adapter canny.safetensors at scale 0.5"), map.err());
        CliRun photo = generate("--control-from", png("photo.png", 2 * size, 2 * size, true).toString(),
                "--control-type", "canny");
        assertEquals(0, photo.code(), photo.err());
        assertTrue(photo.err().contains("the control source is " + 2 * size + "x" + 2 * size + "; resized to "),
                photo.err());
    }

    @Test
    void badControlInputIsOneClearMessage() throws IOException {
        CliRun.assertShortError(generate("--control-image", png("colour.png", size, size, true).toString()),
                ExitCodes.USAGE, "has colour (3 channels) but a condition map has one");
        CliRun.assertShortError(generate("--control-image", png("small.png", size / 2, size / 2, false).toString()),
                ExitCodes.USAGE, "but the output is " + size + "x" + size);
        CliRun.assertShortError(generate("--control-from", png("p.png", size, size, true).toString(),
                "--control-type", "mask"), ExitCodes.USAGE, "this model has no mask adapter", "(it has: canny)");
        CliRun.assertShortError(generate("--control-type", "canny"), ExitCodes.USAGE,
                "give a map with --control-image FILE or a photo with --control-from FILE");
        CliRun.assertShortError(generate("--control-from", png("q.png", size, size, true).toString(),
                "--control-type", "depth"), ExitCodes.USAGE, "--control-type: unknown condition type \"depth\"");
    }
}
