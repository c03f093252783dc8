package dev.mdx.train.unet;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import dev.mdx.nn.Module;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the tests of stages that train beside a frozen model share: a record of the frozen model's arrays and bits
 * to check afterwards, and the mean loss of rows of a run's {@code train_log.csv}.
 */
final class FrozenWeights {
    private final Module module;
    private final Map<String, NDArray> arrays = new LinkedHashMap<>();
    private final Map<String, float[]> bits = new LinkedHashMap<>();

    private FrozenWeights(Module module) {
        this.module = module;
        module.namedParameters().forEach((k, p) -> {
            arrays.put(k, p.get());
            bits.put(k, p.get().toFloatArray());
        });
    }

    static FrozenWeights of(Module module) {
        return new FrozenWeights(module);
    }

    /** Every parameter is still the same array with the same bits. */
    void assertUnchanged() {
        module.namedParameters().forEach((k, p) -> {
            assertSame(arrays.get(k), p.get(), k + " is the same array");
            assertTrue(Arrays.equals(bits.get(k), p.get().toFloatArray()), k + " has the same bits");
        });
    }

    /** The mean loss of the first {@code count} logged steps and of the last {@code count}. */
    static double[] firstAndLastLoss(Path runDir, int count) throws IOException {
        List<String> rows = Files.readAllLines(runDir.resolve("train_log.csv"));
        return new double[] {meanLoss(rows.subList(1, 1 + count)), meanLoss(rows.subList(rows.size() - count,
                rows.size()))};
    }

    private static double meanLoss(List<String> rows) {
        return rows.stream().mapToDouble(r -> Double.parseDouble(r.split(",")[1])).average().orElseThrow();
    }
}
