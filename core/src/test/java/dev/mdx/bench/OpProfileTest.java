package dev.mdx.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mdx.MdxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpProfileTest {
    @TempDir
    Path dir;

    private static String event(String name, double ts, double dur, int tid) {
        return String.format(java.util.Locale.ROOT,
                "{\"name\": \"%s\", \"ph\": \"X\", \"ts\": %.3f, \"dur\": %.3f, \"tid\": %d, \"pid\": \"CPU\"}",
                name, ts, dur, tid);
    }

    @Test
    void selfTimeSubtractsDirectChildrenOnTheSameThread() throws Exception {
        // matmul [0, 1000) calls bmm [100, 900) which calls copy [200, 300); softmax [1000, 1500) follows;
        // a second thread's mm [50, 450) is not a child of anything.
        Path trace = dir.resolve("t.json");
        Files.writeString(trace, "[" + String.join(",\n",
                event("aten::bmm", 100, 800, 1), event("aten::matmul", 0, 1000, 1), event("aten::copy_", 200, 100, 1),
                event("aten::softmax", 1000, 500, 1), event("aten::mm", 50, 400, 2),
                "{\"name\": \"meta\", \"ph\": \"M\", \"tid\": 1}") + "]");
        OpProfile p = OpProfile.read(trace);
        Map<String, Double> self = p.ops().stream().collect(Collectors.toMap(OpProfile.OpTime::name,
                OpProfile.OpTime::selfMs));
        assertEquals(0.2, self.get("aten::matmul"), 1e-9);
        assertEquals(0.7, self.get("aten::bmm"), 1e-9);
        assertEquals(0.1, self.get("aten::copy_"), 1e-9);
        assertEquals(0.5, self.get("aten::softmax"), 1e-9);
        assertEquals(0.4, self.get("aten::mm"), 1e-9);
        assertEquals(1.9, p.totalSelfMs(), 1e-9);
        assertEquals("aten::bmm", p.ops().get(0).name());
        assertTrue(p.top(2).get(1).contains("aten::bmm"), p.top(2).toString());
    }

    @Test
    void recordsTheOpsOfRealWorkAndKeepsTheTrace() {
        Path trace = dir.resolve("real.json");
        long[] wallNs = new long[1];
        OpProfile p;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.randomNormal(new Shape(256, 256));
            p = OpProfile.record(trace, () -> {
                long t0 = System.nanoTime();
                for (int i = 0; i < 3; i++) {
                    a.matMul(a).softmax(-1);
                }
                wallNs[0] = System.nanoTime() - t0;
            });
        }
        assertTrue(Files.isRegularFile(trace));
        OpProfile.OpTime softmax = p.ops().stream().filter(o -> o.name().equals("aten::_softmax")).findFirst()
                .orElseThrow(() -> new AssertionError("no aten::_softmax in " + p.ops()));
        assertEquals(3, softmax.calls());
        assertTrue(p.ops().stream().anyMatch(o -> o.name().equals("aten::mm") && o.calls() == 3), p.ops().toString());
        assertTrue(p.totalSelfMs() > 0 && p.totalSelfMs() <= wallNs[0] / 1e6, p.totalSelfMs() + " ms vs wall "
                + wallNs[0] / 1e6);
    }

    @Test
    void aFileThatIsNotATraceIsAClearError() throws Exception {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"not\": \"a trace\"}");
        MdxException e = assertThrows(MdxException.class, () -> OpProfile.read(bad));
        assertTrue(e.getMessage().contains("not a trace"), e.getMessage());
    }
}
