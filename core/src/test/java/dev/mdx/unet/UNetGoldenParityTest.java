package dev.mdx.unet;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.testing.Golden;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every golden UNet2DConditionModel folder: build from its config.json, load its weights strictly, run the
 * stored inputs, compare out_sample and every stored debug.* intermediate as whole tensors.
 */
class UNetGoldenParityTest {
    private static final String CLASS_NAME = "UNet2DConditionModel";

    @TestFactory
    Stream<DynamicTest> matchesDiffusers() {
        List<Path> dirs = Golden.componentDirs(CLASS_NAME);
        assertFalse(dirs.isEmpty(), "no golden " + CLASS_NAME + " folder with io.safetensors under " + Golden.root());
        return dirs.stream().map(dir -> DynamicTest.dynamicTest(Golden.root().relativize(dir).toString(),
                () -> checkFolder(dir)));
    }

    private static void checkFolder(Path dir) {
        Path ioFile = dir.resolve("io.safetensors");
        double atol = Golden.tolerance(ioFile, "out_sample", 1e-5);
        String name = Golden.root().relativize(dir).toString();
        try (NDManager weights = NDManager.newBaseManager();
                NDManager scope = NDManager.newBaseManager();
                SafeTensorsFile io = SafeTensorsFile.open(ioFile)) {
            UNet2DConditionModel unet = UNet2DConditionModel.load(dir, weights);
            NDArray sample = io.load("sample", scope);
            NDArray timestep = io.load("timestep", scope);
            NDArray context = io.load("encoder_hidden_states", scope);
            Map<String, NDArray> debug = new LinkedHashMap<>();
            NDArray out = unet.forward(sample, timestep, context, debug);
            Golden.assertClose(io.load("out_sample", scope), out, atol, name + " out_sample");
            int compared = 0;
            for (String key : io.tensors().keySet()) {
                if (!key.startsWith("debug.")) {
                    continue;
                }
                String module = key.substring("debug.".length());
                assertTrue(debug.containsKey(module), name + ": forward did not record " + module);
                NDArray expected = io.load(key, scope);
                // the tolerance is stated for outputs of magnitude ~1; intermediates scale with their magnitude
                double scale = Math.max(1.0, expected.abs().max().getFloat());
                Golden.assertClose(expected, debug.get(module), atol * scale, name + " " + key);
                compared++;
            }
            System.out.printf("%s: compared out_sample and %d intermediates%n", name, compared);
        }
    }
}
