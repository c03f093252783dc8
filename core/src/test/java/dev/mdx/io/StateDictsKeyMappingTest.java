package dev.mdx.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.nn.Linear;
import dev.mdx.nn.Module;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The key-mapping load: renamed keys load, ignored keys vanish, collisions and leftovers are reported. */
class StateDictsKeyMappingTest {
    private static final class Net extends Module {
        Net() {
            child("proj", new Linear(2, 3, true));
        }
    }

    @Test
    void renamesIgnoresAndReportsCollisions(@TempDir Path tmp) {
        try (NDManager manager = NDManager.newBaseManager()) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            tensors.put("old.weight", manager.arange(6f).reshape(3, 2));
            tensors.put("proj.bias", manager.ones(new Shape(3)));
            tensors.put("buffer", manager.zeros(new Shape(5)));
            Path file = tmp.resolve("w.safetensors");
            SafeTensorsWriter.write(file, tensors, Map.of());
            Net net = new Net();
            try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
                StateDicts.load(net, st, manager, k -> k.equals("buffer") ? null : k.replace("old.", "proj."));
                assertEquals(5f, net.namedParameters().get("proj.weight").get().getFloat(2, 1));

                StateDictMismatchException strict = assertThrows(StateDictMismatchException.class,
                        () -> StateDicts.load(new Net(), st, manager));
                assertEquals(List.of("proj.weight"), strict.missing());
                assertEquals(List.of("old.weight", "buffer"), strict.unexpected());

                StateDictMismatchException twice = assertThrows(StateDictMismatchException.class,
                        () -> StateDicts.load(new Net(), st, manager, k -> k.equals("buffer") ? null : "proj.bias"));
                assertEquals(List.of("proj.weight"), twice.missing());
                assertTrue(twice.unexpected().get(0).contains("duplicates old.weight"), twice.getMessage());
            }
        }
    }
}
