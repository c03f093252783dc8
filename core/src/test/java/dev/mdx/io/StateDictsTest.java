package dev.mdx.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mdx.nn.Conv2d;
import dev.mdx.nn.Linear;
import dev.mdx.nn.Module;
import dev.mdx.nn.ModuleList;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDictsTest {
    @TempDir
    Path dir;

    static final class Tiny extends Module {
        final Linear proj = child("proj", new Linear(3, 2, true));
        final ModuleList<Conv2d> convs = child("convs", new ModuleList<>());

        Tiny() {
            convs.add(new Conv2d(2, 4, 3, 1, 1));
        }
    }

    @Test
    void keysAreDottedPathsInRegistrationOrder() {
        assertEquals(List.of("proj.weight", "proj.bias", "convs.0.weight", "convs.0.bias"),
                List.copyOf(new Tiny().namedParameters().keySet()));
        assertEquals(2 * 3 + 2 + 4 * 2 * 9 + 4, new Tiny().parameterCount());
    }

    @Test
    void saveThenLoadRestoresEveryValue() {
        try (NDManager m = NDManager.newBaseManager()) {
            Tiny a = new Tiny();
            StateDicts.initRandom(a, m, 7);
            Path f = dir.resolve("tiny.safetensors");
            StateDicts.save(a, f, Map.of("format", "pt"));
            Tiny b = new Tiny();
            StateDicts.load(b, f, m);
            a.namedParameters().forEach((k, p) ->
                    assertArrayEquals(p.get().toFloatArray(), b.namedParameters().get(k).get().toFloatArray(), k));
        }
    }

    @Test
    void halfPrecisionFilesLoadAsFloat32() {
        try (NDManager m = NDManager.newBaseManager()) {
            Tiny a = new Tiny();
            StateDicts.initRandom(a, m, 3);
            Map<String, NDArray> half = new LinkedHashMap<>();
            StateDicts.tensors(a).forEach((k, v) -> half.put(k, v.toType(DataType.FLOAT16, false)));
            Path f = dir.resolve("half.safetensors");
            SafeTensorsWriter.write(f, half, null);
            Tiny b = new Tiny();
            StateDicts.load(b, f, m);
            NDArray w = b.namedParameters().get("proj.weight").get();
            assertEquals(DataType.FLOAT32, w.getDataType());
            assertTrue(w.sub(a.namedParameters().get("proj.weight").get()).abs().max().getFloat() < 2e-3f);
        }
    }

    @Test
    void reportsEveryMissingUnexpectedAndMisShapedKeyAtOnce() {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> bad = new LinkedHashMap<>();
            bad.put("proj.weight", m.zeros(new ai.djl.ndarray.types.Shape(2, 5)));
            bad.put("convs.0.weight", m.zeros(new ai.djl.ndarray.types.Shape(4, 2, 3, 3)));
            bad.put("convs.0.bias", m.zeros(new ai.djl.ndarray.types.Shape(4)));
            bad.put("extra.weight", m.zeros(new ai.djl.ndarray.types.Shape(1)));
            bad.put("convs.1.bias", m.zeros(new ai.djl.ndarray.types.Shape(1)));
            Path f = dir.resolve("bad.safetensors");
            SafeTensorsWriter.write(f, bad, null);
            Tiny t = new Tiny();
            StateDictMismatchException e = assertThrows(StateDictMismatchException.class, () -> StateDicts.load(t, f, m));
            assertEquals(List.of("proj.bias"), e.missing());
            assertEquals(List.of("extra.weight", "convs.1.bias"), e.unexpected());
            assertEquals(1, e.misShaped().size());
            assertTrue(e.misShaped().get(0).startsWith("proj.weight"));
            assertTrue(e.getMessage().contains("(2, 5)") && e.getMessage().contains("(2, 3)"), e.getMessage());
            assertFalse(t.namedParameters().get("convs.0.weight").isSet(), "nothing is loaded when keys mismatch");
        }
    }
}
