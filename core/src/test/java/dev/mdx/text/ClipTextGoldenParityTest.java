package dev.mdx.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.NDManager;
import dev.mdx.io.SafeTensorsFile;
import dev.mdx.testing.Golden;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CLIPTextModel against every golden folder whose config names CLIPTextModel. */
class ClipTextGoldenParityTest {
    /** Intermediate hidden states have no row in tolerances.json; they sit before the output's final LayerNorm. */
    private static final double HIDDEN_FALLBACK_ATOL = 5e-5;

    @Test
    void matchesTransformers() {
        List<Path> dirs = Golden.componentDirs("CLIPTextModel");
        assertFalse(dirs.isEmpty(), "no CLIPTextModel golden folder under " + Golden.root());
        for (Path dir : dirs) {
            check(dir);
        }
    }

    private static void check(Path dir) {
        Path io = dir.resolve("io.safetensors");
        String where = Golden.root().relativize(io).toString();
        try (NDManager weights = NDManager.newBaseManager();
                NDManager scope = weights.newSubManager();
                SafeTensorsFile golden = SafeTensorsFile.open(io)) {
            ClipTextModel model = ClipTextModel.load(dir, weights);
            ClipTextOutput out = model.forward(golden.load("input_ids", scope));

            Golden.assertClose(golden.load("last_hidden_state", scope), out.lastHiddenState(),
                    Golden.tolerance(io, "last_hidden_state", HIDDEN_FALLBACK_ATOL), where + " last_hidden_state");
            int layers = model.config().numHiddenLayers();
            assertEquals(layers + 1, out.hiddenStates().size(), "hidden state count");
            for (int i = 0; i <= layers; i++) {
                String name = "hidden_states." + i;
                Golden.assertClose(golden.load(name, scope), out.hiddenStates().get(i),
                        Golden.tolerance(io, name, HIDDEN_FALLBACK_ATOL), where + " " + name);
            }
            assertFalse(golden.contains("hidden_states." + (layers + 1)), "golden has more layers than the config");
            assertArrayEquals(golden.load("pooled_index", scope).toLongArray(), out.pooledIndex(),
                    where + " pooled_index");
            Golden.assertClose(golden.load("pooler_output", scope), out.pooledOutput(),
                    Golden.tolerance(io, "pooler_output", HIDDEN_FALLBACK_ATOL), where + " pooler_output");
        }
    }
}
